"""ncnn Real-ESRGAN weights → PyTorch → ONNX → Triton CPU repository / TensorRT engines."""
