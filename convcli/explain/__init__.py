"""Documents and reports built from core results, with no terminal in sight (no rich).

``text``: number and phrase formatting; ``document``: the document model and its Markdown and
LaTeX writers; ``shape_report``: `convcli shape`'s report; ``backprop``: the backprop walk.
"""
