# PostgreSQL from Debian's package (the CPU profile, devops/compose.cpu.yml), with the official image's
# variables (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB) and data folder.
#   docker build --network host -f devops/docker/postgres.Dockerfile -t vsr/postgres .
ARG BASE_IMAGE=vsr/debian:12
FROM ${BASE_IMAGE}
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin vsr \
    && mkdir -p /var/lib/postgresql/data \
    && chown -R vsr:vsr /var/lib/postgresql
COPY devops/docker/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint

USER 10001:10001
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
CMD ["postgres"]
