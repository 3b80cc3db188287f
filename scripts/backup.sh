#!/usr/bin/env bash
# make backup STACK=: take a backup of the stack's data now — a Job made from its backup
# CronJob, which writes every SpaceONE database (and Consul's keys, with 1.10.4) to the backup
# volume (local clusters) or bucket (eks) — and print the backup's name (what `make restore FROM=` takes).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK=${1:?stack}
. "$ROOT/scripts/env.sh"
cd "${SPACEONE_PROJECT_DIR:-$ROOT}"   # the tests point this at a throwaway project copy
. "$ROOT/scripts/stack.sh"
ns=$(out namespace) || { echo "stack $STACK has no outputs yet: run 'make up STACK=$STACK' first" >&2; exit 1; }
bin=$ROOT/.pulumi/bin/backupnow
go -C "$ROOT" build -o "$bin" ./cmd/backupnow
# The Job, its wait and its log through client-go (cmd/backupnow), on the stack's cluster as
# kubectl reaches it (KUBECTL's flags, scripts/stack.sh).
"$bin" "${KUBECTL[@]:1}" -namespace "$ns"
