"""Export a loaded model to ONNX (for Netron and ONNX runtimes), checked and compared with PyTorch."""
