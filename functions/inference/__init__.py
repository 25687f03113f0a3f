"""The inference function: remote models over the KServe v2 / Open Inference Protocol."""
