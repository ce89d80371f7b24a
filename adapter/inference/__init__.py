"""Upscalers: one interface, served by Triton or run in-process (OpenVINO, ONNX Runtime, PyTorch)."""
