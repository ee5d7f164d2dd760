#!/usr/bin/env bash
# Makes a Docker engine answer on this machine. An engine that already answers `docker info` is used
# as it is. Otherwise Debian's docker.io (and debootstrap, which scripts/images.sh needs) is installed
# with apt-get and `dockerd` is started in the background on the default socket, with its data
# under the project's cache (default ~/.cache/minio-sse-kes/docker; override the cache with
# MINIO_SSE_KES_CACHE) and its log in dockerd.log next to it. Idempotent; concurrent calls wait
# for each other on a lock file. Exits non-zero with a `docker-engine:` line when no engine can be had.
set -euo pipefail

cache=${MINIO_SSE_KES_CACHE:-$HOME/.cache/minio-sse-kes}
data=$cache/docker
log=$cache/dockerd.log
mkdir -p "$data"
fail() { echo "docker-engine: $*" >&2; exit 1; }
answers() { docker info >/dev/null 2>&1; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

exec 9>"$cache/docker.lock"
flock 9

if command -v docker >/dev/null && answers; then
  echo "docker-engine: using the engine that answers ($(docker info --format '{{.ServerVersion}}' 2>/dev/null))"
  exit 0
fi

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || fail "no engine answers and apt-get is not available to install ${missing[*]}"
  echo "docker-engine: installing ${missing[*]} with apt-get"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq || fail "apt-get update failed"
  # Waits for another apt-get holding the dpkg lock. The package's own service start fails
  # without systemd; dockerd is started below.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >"$cache/docker-apt.log" 2>&1 \
    || fail "apt-get install ${missing[*]} failed (see $cache/docker-apt.log)"
fi

echo "docker-engine: starting dockerd (data in $data, log in $log)"
# setsid: the engine outlives the npm process that started it; it must not inherit the lock (fd 9).
$SUDO setsid dockerd --data-root "$data" >>"$log" 2>&1 </dev/null 9>&- &
for _ in $(seq 1 120); do
  if answers; then
    echo "docker-engine: dockerd $(docker info --format '{{.ServerVersion}}') ready"
    exit 0
  fi
  sleep 0.5
done
tail -n 20 "$log" >&2
fail "dockerd did not answer within 60 s (log: $log)"
