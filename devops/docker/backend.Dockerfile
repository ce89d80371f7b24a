# Backend (FastAPI + the static page). Build from the repository root:
#   docker build -f devops/docker/backend.Dockerfile -t vsr/backend .
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# ffprobe checks every upload before a job is queued.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

# Same uid in every image so the shared storage volume is writable by backend and adapters alike.
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin vsr \
    && mkdir -p /data/storage /data/db \
    && chown -R vsr:vsr /data

WORKDIR /app
COPY backend/requirements.txt backend/requirements.txt
RUN pip install -r backend/requirements.txt
COPY contract/ contract/
COPY backend/ backend/
COPY site/ site/

USER 10001:10001
ENV STORAGE_ROOT=/data/storage \
    DATABASE_URL=sqlite:////data/db/backend.db \
    BACKEND_PORT=8008 \
    SITE_DIR=/app/site
EXPOSE 8008
HEALTHCHECK --interval=10s --timeout=5s --retries=6 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8008/healthz', timeout=3)"]
CMD ["python", "-m", "backend"]
