#!/usr/bin/env bash
# Before `make up`/`make destroy`: repair what an interrupted run (the CLI killed, the laptop
# slept, Ctrl-C twice) left behind, so a plain `make up` converges with no state surgery.
#  1. A lock whose pulumi process no longer runs on this machine is stale: `pulumi cancel`.
#  2. Operations left pending are dropped with `pulumi refresh --clear-pending-creates`; the next
#     `up` then re-applies those objects (server-side apply adopts what already exists).
# Usage: recover.sh STACK   (env from scripts/env.sh; SPACEONE_PROJECT_DIR = project directory)
set -euo pipefail
STACK=${1:?stack}
cd "${SPACEONE_PROJECT_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
state=${PULUMI_BACKEND_URL#file://}; state=${state%%\?*}
locks=$state/.pulumi/locks/organization/spaceone/$STACK
if [ -d "$locks" ]; then
  for f in "$locks"/*.json; do
    [ -e "$f" ] || continue
    pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$f"); host=$(sed -n 's/.*"hostname": *"\([^"]*\)".*/\1/p' "$f")
    if [ "$host" = "$(hostname)" ] && [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "recover: stack $STACK is locked by pulumi pid $pid, which is gone (interrupted run): pulumi cancel"
      pulumi cancel --yes --stack "$STACK" >/dev/null
    fi
  done
fi
if pulumi stack export --stack "$STACK" 2>/dev/null | tr -d ' \n' | grep -q '"pending_operations":\[{'; then
  echo "recover: an interrupted run left pending operations: pulumi refresh --clear-pending-creates"
  pulumi refresh --yes --skip-preview --clear-pending-creates --stack "$STACK" >/dev/null
fi
