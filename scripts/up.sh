#!/usr/bin/env bash
# make up / make destroy / make preview: run pulumi for one stack of this checkout.
# Usage: up.sh up|destroy|preview STACK [pulumi args...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ACTION=${1:?action}; STACK=${2:?stack}; shift 2
. "$ROOT/scripts/env.sh"
cd "$ROOT"
run=()
# A stack on a local cluster needs no AWS SDK: build the program without EKS (-tags noeks),
# in a fraction of the time and memory (bench/README.md).
read_stack_cluster "$STACK" || exit 1
if [ "$CLUSTER_TYPE" != eks ]; then
  export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=noeks"
fi
if [ "$STACK" = sim ]; then
  [ "$ACTION" = destroy ] || "$ROOT/scripts/sim.sh" up
  # The sim's API server lives in a loopback-only network namespace; pulumi and the Go build
  # of the program run in there too, so modules must be in the cache first.
  go mod download
  export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" GOPROXY=off
  run=("$ROOT/scripts/sim.sh" exec)
else
  "$ROOT/scripts/preflight.sh" "$STACK"
fi
"${run[@]}" pulumi stack select --create "$STACK" >/dev/null
"$ROOT/scripts/seed.sh" "$STACK"
[ "$ACTION" = preview ] || "${run[@]}" "$ROOT/scripts/recover.sh" "$STACK"
case $ACTION in
  up) "${run[@]}" pulumi up --yes --stack "$STACK" "$@" ;;
  preview) "${run[@]}" pulumi preview --stack "$STACK" "$@" ;;
  destroy)
    if [ "$STACK" = sim ] && ! "$ROOT/scripts/sim.sh" status >/dev/null 2>&1; then
      "$ROOT/scripts/sim.sh" up   # destroy needs the API server to delete from
    fi
    "${run[@]}" pulumi destroy --yes --stack "$STACK" "$@" ;;
  *) echo "unknown action $ACTION" >&2; exit 2 ;;
esac
