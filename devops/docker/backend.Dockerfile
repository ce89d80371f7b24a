# Backend (FastAPI + the static page). Build from the repository root:
#   docker build --network host -f devops/docker/backend.Dockerfile -t vsr/backend .
# BASE_IMAGE: `make images` imports vsr/debian:12 from Debian's packages; a GPU host may pass python:3.11-slim.
ARG BASE_IMAGE=vsr/debian:12
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# ffprobe checks every upload before a job is queued. Debian's Python where the base has none (the official python image brings its own).
# hadolint ignore=SC2046
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
       $(command -v python3 >/dev/null || echo python3 python3-venv) \
    && rm -rf /var/lib/apt/lists/*

# Same uid in every image so the shared storage volume is writable by backend and adapters alike.
RUN python3 -m venv /opt/venv \
    && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin vsr \
    && mkdir -p /data/storage /data/db \
    && chown -R vsr:vsr /data
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /app
COPY backend/requirements.txt backend/requirements.txt
# host_ca (optional build secret): the CA bundle of a host whose HTTPS goes through an inspecting proxy.
RUN --mount=type=secret,id=host_ca \
    if [ -s /run/secrets/host_ca ]; then export PIP_CERT=/run/secrets/host_ca; fi \
    && pip install -r backend/requirements.txt
COPY contract/ contract/
COPY backend/ backend/
COPY site/ site/

USER 10001:10001
ENV STORAGE_ROOT=/data/storage \
    DATABASE_URL=sqlite:////data/db/backend.db \
    BACKEND_PORT=8008 \
    SITE_DIR=/app/site
EXPOSE 8008
CMD ["python", "-m", "backend"]
