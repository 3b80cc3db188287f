#!/usr/bin/env bash
# Before `make up`/`make destroy`: repair what an interrupted run (the CLI killed, the laptop
# slept, Ctrl-C twice) left behind, so a plain `make up` converges with no state surgery.
#  0. A lock whose pulumi process no longer runs on this machine is stale: removed.
#  1. A checkpoint cut short by the kill (unreadable) is replaced by the backend's own backup,
#     or, with none, by an empty state: the next `up` adopts what the cluster holds.
#  2. Objects the killed run was creating are imported; other pending operations are dropped
#     (cmd/recoverpending, through the Automation API); the next `up` re-applies those objects
#     (server-side apply adopts what already exists).
# Usage: recover.sh STACK   (env from scripts/env.sh; SPACEONE_PROJECT_DIR = project directory)
set -euo pipefail
STACK=${1:?stack}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "${SPACEONE_PROJECT_DIR:-$ROOT}"
state=${PULUMI_BACKEND_URL#file://}; state=${state%%\?*}
locks=$state/.pulumi/locks/organization/spaceone/$STACK
if [ -d "$locks" ]; then
  for f in "$locks"/*.json; do
    [ -e "$f" ] || continue
    pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$f"); host=$(sed -n 's/.*"hostname": *"\([^"]*\)".*/\1/p' "$f")
    if [ "$host" = "$(hostname)" ] && [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      # What `pulumi cancel` does on this backend, without needing a readable checkpoint.
      echo "recover: stack $STACK is locked by pulumi pid $pid, which is gone (interrupted run): removing its lock"
      rm -f "$f"
    fi
  done
fi
ckpt=$state/.pulumi/stacks/spaceone/$STACK.json
if [ -e "$ckpt" ] && ! pulumi stack export --stack "$STACK" >/dev/null 2>&1; then
  mv "$ckpt" "$ckpt.broken"
  if [ -s "$ckpt.bak" ] && cp "$ckpt.bak" "$ckpt" && pulumi stack export --stack "$STACK" >/dev/null 2>&1; then
    echo "recover: the checkpoint of stack $STACK is unreadable (cut short): restored the backend's backup"
    [ -e "$ckpt.bak.attrs" ] && cp "$ckpt.bak.attrs" "$ckpt.attrs"
  else
    # Nothing readable is left: start the state afresh. The objects in the cluster are adopted
    # by the next up (one stable field manager; passwords derived from the credential seed,
    # which lives in the stack's configuration file, not in the state).
    rm -f "$ckpt" "$ckpt.attrs"
    echo "recover: the checkpoint of stack $STACK is unreadable and has no usable backup: starting its state afresh (the next up adopts what exists)"
    pulumi stack init "$STACK" >/dev/null
  fi
fi
if pulumi stack export --stack "$STACK" 2>/dev/null | tr -d ' \n' | grep -q '"pending_operations":\[{'; then
  # Objects the killed run was creating may exist already, generated credentials among them:
  # cmd/recoverpending imports those (so their stored values are kept), then drops the rest.
  bin=$ROOT/.pulumi/bin/recoverpending
  mkdir -p "${bin%/*}"
  go -C "$ROOT" build -o "$bin" ./cmd/recoverpending
  "$bin" -dir "$PWD" "$STACK"
fi
