#!/usr/bin/env bash
# The sim control plane: a real Kubernetes API server, scheduler and controllers with
# kwok-simulated nodes, run in a network namespace that has only loopback, so nothing it or
# its clients do can send a packet off this machine. It is a test bed: no container ever runs.
#
#   scripts/sim.sh up        start it (idempotent) and provide PersistentVolumes
#   scripts/sim.sh down      stop it by pid and remove its network namespace
#   scripts/sim.sh status
#   scripts/sim.sh exec CMD  run CMD inside the namespace with KUBECONFIG set
#   scripts/sim.sh volumes   (re)provide the PersistentVolume pool
#
# Env: SIM_DIR (state, default .sim in the checkout). SIM_NETNS: named network namespace
# (default derived from the checkout path, so two checkouts never share one); "current" means
# the caller already runs in an isolated namespace (the integration tests do: scripts/isolated.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/versions.sh"
SIM_DIR=${SIM_DIR:-$ROOT/.sim}
SIM_NETNS=${SIM_NETNS:-spaceone-sim-$(printf '%s' "$ROOT" | sha1sum | cut -c1-8)}
export RUN=$SIM_DIR/run
KUBECONFIG_OUT=$SIM_DIR/admin.kubeconfig
PV_COUNT=${SIM_PV_COUNT:-48}

in_ns() { # run a command in the sim's network namespace
  if [ "$SIM_NETNS" = current ]; then "$@"; else ip netns exec "$SIM_NETNS" "$@"; fi
}

assert_loopback_only() {
  local links
  links=$(in_ns ip -o link show | awk -F': ' '{print $2}' | grep -v '^lo$' || true)
  if [ -n "$links" ]; then
    echo "refusing: network namespace ${SIM_NETNS} has interfaces other than lo: $links" >&2
    exit 1
  fi
}

ensure_netns() {
  [ "$SIM_NETNS" = current ] && { ip link set lo up; assert_loopback_only; return; }
  if ! ip netns list | grep -qw "$SIM_NETNS"; then
    ip netns add "$SIM_NETNS"
  fi
  ip netns exec "$SIM_NETNS" ip link set lo up
  assert_loopback_only
}

kubectl_() { in_ns env KUBECONFIG="$KUBECONFIG_OUT" "$KUBE_DIR/kubectl" "$@"; }

volumes() {
  # A StorageClass without a provisioner plus a pool of hostPath PersistentVolumes: claims
  # bind to them at once. No container runs, so the paths are never written.
  {
    cat <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: sim-local, annotations: {storageclass.kubernetes.io/is-default-class: "true"}}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
reclaimPolicy: Retain
YAML
    for i in $(seq -w 1 "$PV_COUNT"); do
      printf -- '---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {name: sim-pv-%s, labels: {sim.spaceone.dev/pool: "true"}}\nspec:\n  capacity: {storage: 20Gi}\n  accessModes: [ReadWriteOnce]\n  persistentVolumeReclaimPolicy: Retain\n  storageClassName: sim-local\n  hostPath: {path: %s/volumes/pv-%s}\n' "$i" "$SIM_DIR" "$i"
    done
  } | kubectl_ apply -f - >/dev/null
  # A Released volume (its claim was deleted) goes back to the pool.
  local pv
  for pv in $(kubectl_ get pv -l sim.spaceone.dev/pool=true -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{" "}{end}'); do
    kubectl_ patch pv "$pv" --type json -p '[{"op":"remove","path":"/spec/claimRef"}]' >/dev/null
  done
}

up() {
  if [ -f "$RUN/pids/kube-apiserver.pid" ] && in_ns "$ROOT/scripts/sim/cluster.sh" status >/dev/null 2>&1; then
    echo "sim control plane already running (network namespace $SIM_NETNS)"
  else
    [ -d "$RUN/pids" ] && in_ns "$ROOT/scripts/sim/cluster.sh" down >/dev/null 2>&1 || true
    mkdir -p "$SIM_DIR"
    ensure_netns
    in_ns "$ROOT/scripts/sim/cluster.sh" up
    cp "$RUN/pki/admin.kubeconfig" "$KUBECONFIG_OUT"
  fi
  volumes
  echo "sim control plane up: KUBECONFIG=$KUBECONFIG_OUT (reachable only inside network namespace $SIM_NETNS; use scripts/sim.sh exec)"
}

down() {
  if [ -d "$RUN/pids" ]; then in_ns "$ROOT/scripts/sim/cluster.sh" down; fi
  if [ "$SIM_NETNS" != current ] && ip netns list | grep -qw "$SIM_NETNS"; then ip netns del "$SIM_NETNS"; fi
  rm -rf "$RUN" "$KUBECONFIG_OUT"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) in_ns "$ROOT/scripts/sim/cluster.sh" status ;;
  volumes) volumes ;;
  exec) shift; in_ns env KUBECONFIG="$KUBECONFIG_OUT" "$@" ;;
  *) echo "usage: $0 up|down|status|volumes|exec CMD..." >&2; exit 2 ;;
esac
