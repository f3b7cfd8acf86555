"""nnview's headless core: loading, tracing and explaining PyTorch models. No terminal code here."""
