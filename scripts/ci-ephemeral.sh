#!/usr/bin/env bash
# The CI recipe: an ephemeral environment from stacks/Pulumi.ci.yaml — create it, wait until MinIO
# and KES answer ready, run a check (an SSE-KMS object per bucket, written and read back), and tear
# it down whatever happened. A job with the Pulumi CLI runs the same steps with `pulumi up` and
# `pulumi destroy`; here realize/ performs them on the local Docker engine.
#   scripts/ci-ephemeral.sh [STACK]   (default: ci-<random>; names and ports derive from it)
set -euo pipefail
cd "$(dirname "$0")/.."
stack=${1:-ci-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')}
run() { node scripts/ci-stack.ts "$@"; }
trap 'run down "$stack"' EXIT
run up "$stack"
run wait "$stack"
run check "$stack"
