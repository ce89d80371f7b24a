# CPU model server: the tritonserver bundled by the nvidia-pytriton wheel (python backend + OpenVINO) on the
# CPU model repository `make models` builds, mounted at /models. Build from the repository root:
#   docker build --network host -f devops/docker/triton-cpu.Dockerfile -t vsr/triton-cpu .
# A GPU host runs NGC's tritonserver image instead (devops/compose.yml).
ARG BASE_IMAGE=vsr/debian:12
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# libpython3.11: the python backend's stub loads it. Debian's Python where the base has none (the official python image brings its own).
# hadolint ignore=SC2046
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpython3.11 \
       $(command -v python3 >/dev/null || echo python3 python3-venv) \
    && rm -rf /var/lib/apt/lists/*

# Same uid in every image so the shared storage volume is writable by backend and adapters alike.
RUN python3 -m venv /opt/venv \
    && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin vsr \
    && mkdir -p /data \
    && chown -R vsr:vsr /data
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /app
COPY devops/docker/triton-cpu.requirements.txt devops/docker/triton-cpu.requirements.txt
# host_ca (optional build secret): the CA bundle of a host whose HTTPS goes through an inspecting proxy.
RUN --mount=type=secret,id=host_ca \
    if [ -s /run/secrets/host_ca ]; then export PIP_CERT=/run/secrets/host_ca; fi \
    && pip install -r devops/docker/triton-cpu.requirements.txt
# model.py imports contract.precision; the launcher reuses model_convertation/server.py (stdlib only).
COPY contract/ contract/
COPY model_convertation/__init__.py model_convertation/server.py model_convertation/
COPY devops/__init__.py devops/triton_cpu.py devops/

USER 10001:10001
ENV PYTHONPATH=/app \
    TRITON_HTTP_PORT=8000 \
    TRITON_GRPC_PORT=8001 \
    TRITON_METRICS_PORT=8002
EXPOSE 8000 8001 8002
CMD ["python", "-m", "devops.triton_cpu", "/models"]
