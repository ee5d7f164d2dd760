#!/usr/bin/env bash
# Installs systemd-analyze (Debian package `systemd`), which the unit renderer tests use to verify
# the rendered kes.service and minio.service. Does nothing when it is already present.
set -euo pipefail

if command -v systemd-analyze >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-systemd-tools: systemd-analyze is missing and apt-get is not available" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends systemd >/dev/null
command -v systemd-analyze >/dev/null
