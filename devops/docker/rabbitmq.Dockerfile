# RabbitMQ from Debian's package (the CPU profile, devops/compose.cpu.yml; a GPU host may use the official image).
#   docker build --network host -f devops/docker/rabbitmq.Dockerfile -t vsr/rabbitmq .
ARG BASE_IMAGE=vsr/debian:12
FROM ${BASE_IMAGE}
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

RUN apt-get update \
    && apt-get install -y --no-install-recommends rabbitmq-server \
    && rm -rf /var/lib/apt/lists/*

# Runs as uid 10001 with its data (and Erlang cookie) in the volume at /var/lib/rabbitmq.
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin vsr \
    && mkdir -p /var/lib/rabbitmq /etc/rabbitmq \
    && chown -R vsr:vsr /var/lib/rabbitmq /etc/rabbitmq
COPY devops/docker/rabbitmq-entrypoint.sh /usr/local/bin/rabbitmq-entrypoint

USER 10001:10001
# /usr/lib/rabbitmq/bin first: Debian's /usr/sbin wrappers switch to the `rabbitmq` user, which needs root.
ENV PATH=/usr/lib/rabbitmq/bin:$PATH \
    HOME=/var/lib/rabbitmq \
    RABBITMQ_MNESIA_BASE=/var/lib/rabbitmq/mnesia \
    RABBITMQ_LOG_BASE=/var/lib/rabbitmq/log \
    RABBITMQ_LOGS=- \
    RABBITMQ_CONFIG_FILE=/etc/rabbitmq/rabbitmq \
    RABBITMQ_ENABLED_PLUGINS_FILE=/etc/rabbitmq/enabled_plugins \
    RABBITMQ_NODENAME=rabbit@localhost
EXPOSE 5672
ENTRYPOINT ["/usr/local/bin/rabbitmq-entrypoint"]
CMD ["rabbitmq-server"]
