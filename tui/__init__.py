"""nnview: see inside PyTorch models from the terminal."""

__version__ = "0.1.0"
