#!/usr/bin/env bash
# The sim half of `make bench`, run inside a loopback-only network namespace by scripts/bench.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/env.sh"
work=$(mktemp -d)
export SIM_NETNS=current SIM_DIR=$work/sim
trap '"$ROOT/scripts/sim.sh" down >/dev/null 2>&1; rm -rf "$work"' EXIT
t() { local s e; s=$(date +%s.%N); "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; return 1; }; e=$(date +%s.%N); awk -v a="$s" -v b="$e" 'BEGIN{printf "%.1f", b-a}'; }
echo "sim control plane up: $(t "$ROOT/scripts/sim.sh" up)s"
mkdir -p "$work/project/stacks" "$work/state"
for f in Pulumi.yaml main.go go.mod go.sum components; do ln -s "$ROOT/$f" "$work/project/$f"; done
sed "s#.sim/admin.kubeconfig#$SIM_DIR/admin.kubeconfig#" "$ROOT/stacks/Pulumi.sim.yaml" > "$work/project/stacks/Pulumi.sim.yaml"
cd "$work/project"
mkdir -p "$work/home" && ln -s "$PULUMI_HOME/plugins" "$work/home/plugins"   # the provider make tools installed
export PULUMI_BACKEND_URL=file://$work/state PULUMI_CONFIG_PASSPHRASE=bench PULUMI_HOME=$work/home
unset PULUMI_CONFIG_PASSPHRASE_FILE
pulumi stack init sim >/dev/null 2>&1
echo "pulumi up, empty -> everything ready: $(t pulumi up --yes --skip-preview --color=never)s ($(grep -o '[0-9][0-9]* created' "$work/last.log" | tail -1))"
# A no-op up, five times (it is short, so one run is mostly noise): what every up on a healthy
# platform pays, the API key's check included (bench/README.md, "No-op up").
noop=()
for _ in 1 2 3 4 5; do noop+=("$(t pulumi up --yes --skip-preview --expect-no-changes)"); done
echo "pulumi up, no changes: $(printf '%s\n' "${noop[@]}" | sort -n | sed -n 3p)s (median of 5: ${noop[*]})"
echo "pulumi preview, no changes: $(t pulumi preview --expect-no-changes)s"
echo "pulumi destroy: $(t pulumi destroy --yes --skip-preview)s"
"$ROOT/scripts/sim.sh" volumes >/dev/null
up=$(t pulumi up --yes --skip-preview --color=never)
echo "pulumi up again, program already built, empty -> everything ready: ${up}s"
t pulumi destroy --yes --skip-preview >/dev/null
"$ROOT/scripts/sim.sh" volumes >/dev/null

# The floor: the same manifests applied server-side by kubectl, then waiting for the same readiness.
render=$work/render
(cd "$ROOT" && PULUMI_BACKEND_URL='' PULUMI_CONFIG_PASSPHRASE='' PULUMI_HOME='' "$ROOT/scripts/render.sh" sim "$render" >/dev/null 2>&1)
export KUBECONFIG=$SIM_DIR/admin.kubeconfig
floor() {
  kubectl apply --server-side -f "$render/1-manifest" >/dev/null 2>&1 || kubectl apply --server-side -f "$render/1-manifest" >/dev/null
  for ns in spaceone root-supervisor; do
    kubectl -n "$ns" wait --for=condition=Available deployment --all --timeout=300s >/dev/null
  done
  for st in mongodb redis consul; do kubectl -n spaceone rollout status "statefulset/$st" --timeout=300s >/dev/null; done
  kubectl -n spaceone wait --for=condition=Complete job --all --timeout=300s >/dev/null
}
f=$(t floor)
echo "kubectl apply --server-side of the rendered manifests + wait for the same readiness: ${f}s"
echo "ratio pulumi up / kubectl floor: $(awk -v a="$up" -v b="$f" 'BEGIN{printf "%.2f", a/b}') (target <= 1.5)"
