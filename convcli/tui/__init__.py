"""`convcli explore`: the full-screen explorer (Textual), a front end beside `commands/`.

Each screen keeps its state in a plain model (no Textual) that computes through the core and the
explain layer, so that every number on screen is the one `convcli apply --at`, `convcli shape` and
`convcli backprop` print; the screens only draw the models and turn keys into model calls.
Textual is imported by this package alone, and only when `convcli explore` runs.
"""
