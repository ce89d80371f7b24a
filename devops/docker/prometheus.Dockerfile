# Prometheus from Debian's package (the CPU profile's `monitoring`; a GPU host may use the official image).
#   docker build --network host -f devops/docker/prometheus.Dockerfile -t vsr/prometheus .
ARG BASE_IMAGE=vsr/debian:12
FROM ${BASE_IMAGE}

RUN apt-get update \
    && apt-get install -y --no-install-recommends prometheus \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin vsr \
    && mkdir -p /prometheus \
    && chown -R vsr:vsr /prometheus

USER 10001:10001
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
