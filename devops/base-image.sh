#!/usr/bin/env bash
# vsr/debian:12, the base of every image of the CPU profile, from Debian's packages alone (no registry):
# mmdebstrap bookworm (minbase) → docker import. Installs mmdebstrap when missing.
set -euo pipefail
image="${1:-vsr/debian:12}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v mmdebstrap >/dev/null; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi
echo "building $image from Debian bookworm ($mirror)"
# Manuals, docs (but their copyright files) and translations left out: nothing in a container reads them.
as_root mmdebstrap --quiet --variant=minbase --include=ca-certificates \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
  bookworm - "$mirror" | docker import --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
docker image inspect --format "$image: {{.Size}} bytes" "$image"
