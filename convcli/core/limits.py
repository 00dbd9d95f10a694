"""The largest numbers convcli takes, in a module of its own so that checking an option does not load the geometry."""

from __future__ import annotations

# the largest size, kernel, stride, padding or channel count convcli takes: past any network's, and every count
# made of them (parameters, multiply-accumulates) stays a number Python prints (it refuses past 4,300 digits)
MAX_EXTENT = 10**9
