#!/bin/bash
# Writes rabbitmq.conf from the environment (the official image's variables), then runs the command.
set -euo pipefail
: "${RABBITMQ_DEFAULT_USER:?}" "${RABBITMQ_DEFAULT_PASS:?}"
{
  echo "listeners.tcp.default = ${RABBITMQ_ADDRESS:-0.0.0.0}:${RABBITMQ_NODE_PORT:-5672}"
  echo "default_user = ${RABBITMQ_DEFAULT_USER}"
  echo "default_pass = ${RABBITMQ_DEFAULT_PASS}"
  echo "loopback_users = none"
} > /etc/rabbitmq/rabbitmq.conf
echo "[]." > /etc/rabbitmq/enabled_plugins
exec "$@"
