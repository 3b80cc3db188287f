#!/usr/bin/env bash
# The latency profile of `make bench`: a first install on the sim with start latencies like a
# real cluster's (every pod but a Job's Ready POD_MS after it is scheduled, a Job's pod done
# JOB_MS after it starts; kwok stages from scripts/sim/stages.sh), in one run:
#   - pulumi up of the sim stack (program already built), and its destroy;
#   - kubectl applying the same rendered manifests in the necessary order: stores, then the
#     services together, then the initializer, then the token consumers, each step waiting
#     for the one before;
#   - kubectl applying them all at once, then waiting for the same readiness.
# Run inside an isolated network namespace (scripts/bench.sh does). Usage: bench-latency.sh POD_MS JOB_MS
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/env.sh"
pod_ms=${1:?pod ready delay in ms}; job_ms=${2:?job delay in ms}
work=$(mktemp -d)
export SIM_NETNS=current SIM_DIR=$work/sim SIM_STAGES=$work/stages.yaml
trap '"$ROOT/scripts/sim.sh" down >/dev/null 2>&1; rm -rf "$work"' EXIT
"$ROOT/scripts/sim/stages.sh" "$KWOK_DIR/stages.yaml" "$pod_ms" "$job_ms" > "$SIM_STAGES"
t() { local s e; s=$(date +%s.%N); "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; return 1; }; e=$(date +%s.%N); awk -v a="$s" -v b="$e" 'BEGIN{printf "%.1f", b-a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
"$ROOT/scripts/sim.sh" up >/dev/null
export KUBECONFIG=$SIM_DIR/admin.kubeconfig

# The manifests, rendered by the program itself, sorted into the steps of the necessary order.
render=$work/render
(cd "$ROOT" && PULUMI_BACKEND_URL='' PULUMI_CONFIG_PASSPHRASE='' PULUMI_HOME='' "$ROOT/scripts/render.sh" sim "$render" >/dev/null 2>&1)
m=$render/1-manifest
mkdir -p "$work/steps/1-stores" "$work/steps/2-services" "$work/steps/3-initializer" "$work/steps/4-consumers"
for f in "$m"/*.yaml; do
  case $(basename "$f") in
    apps_v1-statefulset-*) step=1-stores ;;
    batch_v1-job-*) step=3-initializer ;;
    apps_v1-deployment-*) if grep -q 'spaceone.dev/waits-for: .*initializer' "$f"; then step=4-consumers; else step=2-services; fi ;;
    *) step=1-stores ;;   # namespaces, configs, Services, RBAC: what the stores' step brings along
  esac
  cp "$f" "$work/steps/$step/"
done
apply() { kubectl apply --server-side -f "$1" >/dev/null 2>&1 || kubectl apply --server-side -f "$1" >/dev/null; }   # twice: namespaces first
wait_step() { # what to wait for in a directory of manifests
  local f kind ns name pid pids=()
  for f in "$1"/*.yaml; do
    kind=$(awk '/^kind:/{print $2; exit}' "$f")
    ns=$(awk '/^  namespace:/{print $2; exit}' "$f"); name=$(awk '/^  name:/{print $2; exit}' "$f")
    case $kind in
      StatefulSet) kubectl -n "$ns" rollout status "statefulset/$name" --timeout=300s ;;
      Deployment) kubectl -n "$ns" wait --for=condition=Available "deployment/$name" --timeout=300s ;;
      Job) kubectl -n "$ns" wait --for=condition=Complete "job/$name" --timeout=300s ;;
      *) ;;   # nothing to wait for
    esac >/dev/null &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
}
in_order() { local s; for s in "$work"/steps/*; do apply "$s"; wait_step "$s"; done; }
at_once() { apply "$m"; wait_step "$m"; }
clean() { # remove what the manifests made and give the volumes back
  kubectl delete -f "$m" --wait=true --timeout=300s >/dev/null 2>&1 || true
  "$ROOT/scripts/sim.sh" volumes >/dev/null
}

mkdir -p "$work/project/stacks" "$work/state"
for f in Pulumi.yaml main.go go.mod go.sum components; do ln -s "$ROOT/$f" "$work/project/$f"; done
sed "s#.sim/admin.kubeconfig#$SIM_DIR/admin.kubeconfig#" "$ROOT/stacks/Pulumi.sim.yaml" > "$work/project/stacks/Pulumi.sim.yaml"
(
  cd "$work/project"
  mkdir -p "$work/home" && ln -s "$PULUMI_HOME/plugins" "$work/home/plugins"   # the provider make tools installed
  export PULUMI_BACKEND_URL=file://$work/state PULUMI_CONFIG_PASSPHRASE=bench PULUMI_HOME=$work/home
  unset PULUMI_CONFIG_PASSPHRASE_FILE KUBECONFIG
  pulumi stack init sim >/dev/null 2>&1
  pulumi preview >/dev/null 2>&1   # builds the program, so the up below measures the deployment
  up=$(t pulumi up --yes --skip-preview)
  down=$(t pulumi destroy --yes --skip-preview)
  echo "$up $down" > "$work/pulumi.txt"
)
"$ROOT/scripts/sim.sh" volumes >/dev/null
read -r up down < "$work/pulumi.txt"
ordered=$(t in_order); clean
all=$(t at_once); clean
echo "latency profile: pods Ready after ${pod_ms} ms, Jobs done ${job_ms} ms after they start"
echo "  pulumi up, empty -> everything ready (program built): ${up}s; pulumi destroy: ${down}s"
echo "  kubectl, applied in the necessary order (stores, services, initializer, token consumers): ${ordered}s"
echo "  kubectl, all at once: ${all}s"
echo "  ratio pulumi up / kubectl in order: $(ratio "$up" "$ordered"); pulumi up / kubectl all at once: $(ratio "$up" "$all")"
