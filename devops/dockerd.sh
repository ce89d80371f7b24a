#!/usr/bin/env bash
# Make sure a Docker daemon answers: install Debian's docker.io when dockerd is missing, start it when none
# answers. --bridge=none and no iptables: every container of the CPU profile uses host networking, so no
# container or network ever takes a private-range address (docs/deploy.md).
set -euo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
answers() { docker info >/dev/null 2>&1; }
answers && exit 0
if ! command -v dockerd >/dev/null; then
  echo "dockerd missing: apt-get install docker.io"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi
log="${DOCKERD_LOG:-/var/log/dockerd.log}"
echo "Docker not answering: dockerd --bridge=none --iptables=false (log $log)"
as_root bash -c "setsid dockerd --bridge=none --iptables=false --ip6tables=false >>'$log' 2>&1 < /dev/null &"
for _ in $(seq 60); do answers && exit 0; sleep 1; done
echo "dockerd did not answer within 60 s; see $log" >&2
exit 1
