# Adapter worker: decodes, calls Triton over gRPC, encodes. Build from the repository root:
#   docker build --network host -f devops/docker/adapter.Dockerfile -t vsr/adapter .
# BASE_IMAGE: `make images` imports vsr/debian:12 from Debian's packages; a GPU host may pass python:3.11-slim.
ARG BASE_IMAGE=vsr/debian:12
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# ffmpeg/ffprobe: probing, audio/subtitle copy and the final encode. Debian's Python where the base has none (the official python image brings its own).
# hadolint ignore=SC2046
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
       $(command -v python3 >/dev/null || echo python3 python3-venv) \
    && rm -rf /var/lib/apt/lists/*

# Same uid in every image so the shared storage volume is writable by backend and adapters alike.
RUN python3 -m venv /opt/venv \
    && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin vsr \
    && mkdir -p /data/storage /data/targets \
    && chown -R vsr:vsr /data
ENV PATH=/opt/venv/bin:$PATH

# Dependencies before code: a code change rebuilds only the COPY layers below.
WORKDIR /app
COPY adapter/requirements.txt adapter/requirements.txt
# host_ca (optional build secret): the CA bundle of a host whose HTTPS goes through an inspecting proxy.
RUN --mount=type=secret,id=host_ca \
    if [ -s /run/secrets/host_ca ]; then export PIP_CERT=/run/secrets/host_ca; fi \
    && pip install -r adapter/requirements.txt
COPY contract/ contract/
COPY adapter/ adapter/

USER 10001:10001
ENV STORAGE_ROOT=/data/storage \
    TRITON_URL=triton:8001 \
    ADAPTER_METRICS_PORT=9108 \
    ADAPTER_PORT_FILE=/tmp/adapter-metrics-port
EXPOSE 9108
CMD ["python", "-m", "adapter", "worker"]
