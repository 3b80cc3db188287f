#!/usr/bin/env bash
# Fails within seconds, with the fix, when a local stack's cluster cannot be reached.
# Usage: preflight.sh STACK
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/env.sh"
STACK=${1:?stack}
cd "$ROOT"
read_stack_cluster "$STACK" || exit 1
[ "$CLUSTER_TYPE" = eks ] && exit 0
[ -n "$CLUSTER_KUBECONFIG" ] && exit 0   # a kubeconfig of its own (the sim stack is started by make)
ctx=$CLUSTER_CONTEXT
KUBECTL=$(command -v kubectl || true); [ -x "$KUBE_DIR/kubectl" ] && KUBECTL=$KUBE_DIR/kubectl
fail() {
  echo "stack '$STACK' deploys to kube context '$ctx', $1." >&2
  echo "  start it with:   minikube start --cpus 4 --memory 8g" >&2
  echo "  or try the sim:  make up STACK=sim   (a local test control plane; no containers run)" >&2
  echo "  or point the stack at another context: pulumi config set kubeContext <name> --stack $STACK" >&2
  exit 1
}
if [ -z "$KUBECTL" ]; then
  IFS=: read -ra kcs <<<"${KUBECONFIG:-$HOME/.kube/config}"   # a path list, like kubectl's
  grep -qs -- "name: $ctx\$" "${kcs[@]}" || fail "but no kubeconfig names that context"
  exit 0
fi
"$KUBECTL" config get-contexts -o name 2>/dev/null | grep -qx -- "$ctx" || fail "but no kubeconfig names that context"
"$KUBECTL" --context "$ctx" get --raw=/readyz --request-timeout=5s >/dev/null 2>&1 || fail "but its API server does not answer"
