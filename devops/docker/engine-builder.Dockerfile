# One-shot TensorRT engine builder. Its NGC release must equal Triton's (same TensorRT), and it must run
# on the GPU model that will serve the engines. Build from the repository root:
#   docker build -f devops/docker/engine-builder.Dockerfile --build-arg NGC_RELEASE=25.01 -t vsr/engine-builder .
ARG NGC_RELEASE=25.01
FROM nvcr.io/nvidia/tensorrt:${NGC_RELEASE}-py3

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_BREAK_SYSTEM_PACKAGES=1

RUN useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin vsr \
    && mkdir -p /models /cache/onnx \
    && chown -R vsr:vsr /models /cache

WORKDIR /app
COPY model_convertation/requirements.txt model_convertation/requirements.txt
# torch only exports ONNX here; TensorRT (from the base image) builds the engines.
RUN pip install torch==2.13.0 \
    && pip install -r model_convertation/requirements.txt
COPY model_convertation/ model_convertation/

USER 10001:10001
ENTRYPOINT ["python3", "-m", "model_convertation", "build", "--target", "gpu", "--repo", "/models", \
            "--onnx-dir", "/cache/onnx"]
