"""convcli: a command-line convolution and gradient explorer."""

__version__ = "0.1.0"
