# Adapter worker: decodes, calls Triton over gRPC, encodes. Build from the repository root:
#   docker build -f devops/docker/adapter.Dockerfile -t vsr/adapter .
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# ffmpeg/ffprobe: probing, audio/subtitle copy and the final encode.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin vsr \
    && mkdir -p /data/storage \
    && chown -R vsr:vsr /data

WORKDIR /app
COPY adapter/requirements.txt adapter/requirements.txt
RUN pip install -r adapter/requirements.txt
COPY contract/ contract/
COPY adapter/ adapter/

USER 10001:10001
ENV STORAGE_ROOT=/data/storage \
    TRITON_URL=triton:8001 \
    ADAPTER_METRICS_PORT=9108
EXPOSE 9108
CMD ["python", "-m", "adapter", "worker"]
