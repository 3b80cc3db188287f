# shellcheck shell=bash
# Sourced by the scripts that act on a deployed stack (STACK set, run in the project directory):
#   out ARGS...   pulumi stack output of the stack
#   KUBECTL       kubectl for the stack's cluster, reached as the program reaches it: the EKS
#                 stack's kubeconfig output, spaceone:kubeconfig, or spaceone:kubeContext
#                 (default minikube)
out() { pulumi stack output "$@" --stack "$STACK"; }
_stack_cfg=stacks/Pulumi.$STACK.yaml
_stack_get() { awk -v k="spaceone:$1:" '$1==k {print $2; exit}' "$_stack_cfg" | tr -d '"'; }
KUBECTL=(kubectl)
if [ "$(_stack_get clusterType)" = eks ]; then
  _stack_kc=$(mktemp); trap 'rm -f "$_stack_kc"' EXIT
  out kubeconfig --show-secrets > "$_stack_kc"; KUBECTL+=(--kubeconfig "$_stack_kc")
elif [ -n "$(_stack_get kubeconfig)" ]; then KUBECTL+=(--kubeconfig "$(_stack_get kubeconfig)")
else _stack_ctx=$(_stack_get kubeContext); KUBECTL+=(--context "${_stack_ctx:-minikube}"); fi
