#!/usr/bin/env bash
# make dev-connect [STACK=]: forward every gRPC service and store of a stack to stable ports on
# localhost, through the Kubernetes API (kubectl port-forward), so a service run on the laptop
# with its devConfig reaches the rest in the cluster — on minikube and EKS alike. Ctrl-C stops
# every forward.   --print: show the table and the commands, start nothing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK=${1:?stack}; MODE=${2:-run}
. "$ROOT/scripts/env.sh"
PROJECT=${SPACEONE_PROJECT_DIR:-$ROOT}   # the tests point this at a throwaway project copy
cd "$PROJECT"
. "$ROOT/scripts/stack.sh"
ns=$(out namespace) || { echo "stack $STACK has no outputs yet: run 'make up STACK=$STACK' first" >&2; exit 1; }
endpoints=$(out devEndpoints --json) || { echo "stack $STACK has no devEndpoints output: run 'make up STACK=$STACK' first" >&2; exit 1; }

# What to forward and the table come from the devEndpoints output (cmd/devconnect): the program
# says what runs where and what to forward (the same addresses devConfig uses), so nothing here
# repeats it.
bin=$ROOT/.pulumi/bin/devconnect
go -C "$ROOT" build -o "$bin" ./cmd/devconnect
"$bin" -table "$ns" <<< "$endpoints"
forwards=$("$bin" -forwards <<< "$endpoints")
# 1.12 hands the API key over in a Secret: a laptop service that reads it imports its file.
read -r key_secret key_file < <("$bin" -key)
if "${KUBECTL[@]}" -n "$ns" get secret "$key_secret" >/dev/null 2>&1; then
  echo "services that read the API key import ./$key_file; copy it into the directory you start them in:"
  echo "  ${KUBECTL[*]} -n $ns get secret $key_secret -o jsonpath='{.data.${key_file//./\\.}}' | base64 -d > $key_file"
fi
if [ "$MODE" = --print ]; then
  while read -r svc lport rport; do
    [ -n "$svc" ] || continue   # (nothing to forward: every service on the nodes' ports)
    echo "${KUBECTL[*]} -n $ns port-forward --address 127.0.0.1 svc/$svc $lport:$rport"
  done <<< "$forwards"
  exit 0
fi
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; echo; echo "dev-connect: all forwards stopped"; }
trap cleanup EXIT INT TERM
while read -r svc lport rport; do
  [ -n "$svc" ] || continue
  "${KUBECTL[@]}" -n "$ns" port-forward --address 127.0.0.1 "svc/$svc" "$lport:$rport" >/dev/null 2>&1 &
  pids+=($!)
done <<< "$forwards"
echo "dev-connect: forwarding ${#pids[@]} services; Ctrl-C to stop"
wait
