# shellcheck shell=bash
# Sourced by the scripts that act on a deployed stack (STACK set, run in the project directory):
#   out ARGS...   pulumi stack output of the stack
#   KUBECTL       kubectl for the stack's cluster, reached as the program reaches it: the EKS
#                 stack's kubeconfig output, or the local stack's kubeconfig file and context
#                 (read_stack_cluster, scripts/env.sh)
out() { pulumi stack output "$@" --stack "$STACK"; }
read_stack_cluster "$STACK" || exit 1
KUBECTL=(kubectl)
if [ "$CLUSTER_TYPE" = eks ]; then
  _stack_kc=$(mktemp); trap 'rm -f "$_stack_kc"' EXIT
  out kubeconfig --show-secrets > "$_stack_kc"; KUBECTL+=(--kubeconfig "$_stack_kc")
else
  [ -z "$CLUSTER_KUBECONFIG" ] || KUBECTL+=(--kubeconfig "$CLUSTER_KUBECONFIG")
  [ -z "$CLUSTER_CONTEXT" ] || KUBECTL+=(--context "$CLUSTER_CONTEXT")
fi
