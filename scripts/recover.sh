#!/usr/bin/env bash
# Before `make up`/`make destroy`: repair what an interrupted run left in the stack's state
# (stale lock, cut checkpoint, pending operations: cmd/recover says how), so a plain `make up`
# converges with no state surgery.
# Usage: recover.sh STACK   (env from scripts/env.sh; SPACEONE_PROJECT_DIR = project directory)
set -euo pipefail
STACK=${1:?stack}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
bin=$ROOT/.pulumi/bin/recover
go -C "$ROOT" build -o "$bin" ./cmd/recover   # (go run adds "exit status 1" to its errors)
"$bin" -dir "${SPACEONE_PROJECT_DIR:-$ROOT}" "$STACK"
