"""Inference: built-in streaming detectors, ONNX models run in-process, remote models over the
KServe v2 / Open Inference Protocol, and the scoring pipeline the scorer functions share."""
