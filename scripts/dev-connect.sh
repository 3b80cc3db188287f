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

# name  local-port  service  service-port  where, from the devEndpoints output: the program says what runs
# where and what to forward (the same addresses devConfig uses), so nothing here repeats it.
table=$(printf '%s' "$endpoints" | python3 -c '
import json, sys
for name, e in sorted(json.load(sys.stdin).items()):
    if "service" in e:
        print(name, e["address"].rsplit(":", 1)[1], e["service"], e["servicePort"], e["address"])
    else:
        where = {"laptop": "runs-on-your-laptop", "external": "outside-the-cluster"}.get(e["runs"], "on-the-nodes")
        print(name, "-", "-", "-", where + ":" + e["address"])
')
printf '%-14s %-28s %s\n' SERVICE "ON YOUR LAPTOP" "IN THE CLUSTER"
while read -r name lport svc rport where; do
  [ "$lport" = - ] && { printf '%-14s %-28s %s\n' "$name" "${where#*:}" "(${where%%:*})"; continue; }
  printf '%-14s %-28s %s\n' "$name" "$where" "svc/$svc:$rport -n $ns"
done <<< "$table"
# 1.12 hands the API key over in a Secret: a laptop service that reads it imports ./token.yaml.
if "${KUBECTL[@]}" -n "$ns" get secret spaceone-api-key >/dev/null 2>&1; then
  echo "services that read the API key import ./token.yaml; copy it into the directory you start them in:"
  echo "  ${KUBECTL[*]} -n $ns get secret spaceone-api-key -o jsonpath='{.data.token\.yaml}' | base64 -d > token.yaml"
fi
if [ "$MODE" = --print ]; then
  while read -r name lport svc rport where; do
    [ "$lport" = - ] || echo "${KUBECTL[*]} -n $ns port-forward --address 127.0.0.1 svc/$svc $lport:$rport"
  done <<< "$table"
  exit 0
fi
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; echo; echo "dev-connect: all forwards stopped"; }
trap cleanup EXIT INT TERM
while read -r name lport svc rport where; do
  [ "$lport" = - ] && continue
  "${KUBECTL[@]}" -n "$ns" port-forward --address 127.0.0.1 "svc/$svc" "$lport:$rport" >/dev/null 2>&1 &
  pids+=($!)
done <<< "$table"
echo "dev-connect: forwarding ${#pids[@]} services; Ctrl-C to stop"
wait
