"""The roles of a grid's cells in the sliding-window figures: the names the frames use and the colours key on."""

INPUT, PADDING, ZERO, BEYOND = "input", "padding", "zero", "beyond"
GAP = "gap"  # the blank row between the input channels' planes, stacked one under another
