"""The models function: ONNX models uploaded, versioned and stored in chunks."""
