#!/usr/bin/env bash
# The sim control plane's processes: etcd + kube-apiserver + kube-controller-manager +
# kube-scheduler + kwok (simulated kubelet), all on 127.0.0.1, tracked and stopped by pid.
# Called by scripts/sim.sh inside a loopback-only network namespace; not meant to be run alone.
# Usage: cluster.sh up|down|status   (env: RUN = state dir; SIM_STAGES = kwok stages file)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../versions.sh"
RUN=${RUN:?RUN must name the state directory}
ETCD_PORT=2379 ETCD_PEER_PORT=2380 APISERVER_PORT=6443 KCM_PORT=10257 SCHED_PORT=10259 KWOK_PORT=10250
PKI=$RUN/pki LOGS=$RUN/logs PIDS=$RUN/pids
export KUBECONFIG=$PKI/admin.kubeconfig
KUBECTL=$KUBE_DIR/kubectl

T0=$(date +%s.%N)
log() { echo "[sim $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1fs", b-a}')] $*"; }
start() { local name=$1; shift; "$@" >"$LOGS/$name.log" 2>&1 & echo $! >"$PIDS/$name.pid"; }
alive() { [ -f "$PIDS/$1.pid" ] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }
wait_for() { # name timeout_s what cmd...
  local name=$1 t=$2 what=$3; shift 3
  local end=$(( $(date +%s) + t ))
  until "$@" >/dev/null 2>&1; do
    if ! alive "$name"; then log "$name died; last log lines:"; tail -20 "$LOGS/$name.log" >&2; return 1; fi
    if [ "$(date +%s)" -ge "$end" ]; then log "timeout waiting for $what"; tail -20 "$LOGS/$name.log" >&2; return 1; fi
    sleep 0.2
  done
  log "$what"
}
hz() { curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$1"; }

up() {
  for b in "$ETCD_DIR/etcd" "$KUBE_DIR/kube-apiserver" "$KWOK_DIR/kwok" "$KWOK_DIR/stages.yaml"; do
    [ -e "$b" ] || { echo "missing $b: run 'make tools' first" >&2; exit 1; }
  done
  mkdir -p "$LOGS" "$PIDS"
  "$HERE/gen-pki.sh" "$PKI" "$APISERVER_PORT"
  start etcd "$ETCD_DIR/etcd" --name default --data-dir "$RUN/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --quota-backend-bytes=$((2*1024*1024*1024)) --log-level=warn
  wait_for etcd 30 "etcd healthy" curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"
  # --endpoint-reconciler-type=none: the advertise address is loopback, which the kubernetes
  # Endpoints may not hold. --kubelet-preferred-address-types=InternalIP with kwok's node IP
  # 127.0.0.1 keeps `kubectl logs` and friends on loopback.
  start kube-apiserver "$KUBE_DIR/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" --client-ca-file="$PKI/ca.crt" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 --service-node-port-range=30000-32767 \
    --authorization-mode=RBAC --allow-privileged=true \
    --endpoint-reconciler-type=none --kubelet-preferred-address-types=InternalIP \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --profiling=false
  wait_for kube-apiserver 120 "kube-apiserver ready" hz "https://127.0.0.1:$APISERVER_PORT/readyz"
  # All controllers share one identity (saves ~5 s per start); it must then be system:masters.
  start kube-controller-manager "$KUBE_DIR/kube-controller-manager" \
    --kubeconfig="$PKI/admin.kubeconfig" \
    --authentication-kubeconfig="$PKI/controller-manager.kubeconfig" --authorization-kubeconfig="$PKI/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false --use-service-account-credentials=false \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --node-monitor-grace-period=40s --profiling=false
  start kube-scheduler "$KUBE_DIR/kube-scheduler" \
    --kubeconfig="$PKI/scheduler.kubeconfig" \
    --authentication-kubeconfig="$PKI/scheduler.kubeconfig" --authorization-kubeconfig="$PKI/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --leader-elect=false --profiling=false \
    --pod-max-in-unschedulable-pods-duration=5s
  # ^ A StatefulSet's pod can reach the scheduler before its claim reaches the scheduler's cache
  #   ("unbound immediate PersistentVolumeClaims. not found"); the claim's later events do not
  #   always requeue it, and the default retry is after 5 minutes. A test bed retries in seconds.
  echo "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ) stdout F simulated container: sim runs no containers" > "$RUN/fake-container.log"
  printf 'apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterLogs\nmetadata: {name: all}\nspec:\n  logs:\n  - logsFile: %s\n' \
    "$RUN/fake-container.log" > "$RUN/kwok-logs.yaml"
  # SIM_STAGES: other stages, e.g. start latencies like a real cluster's (scripts/sim/stages.sh).
  start kwok "$KWOK_DIR/kwok" --kubeconfig="$PKI/admin.kubeconfig" --config="${SIM_STAGES:-$KWOK_DIR/stages.yaml}" --config="$RUN/kwok-logs.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-ip=127.0.0.1 --node-port="$KWOK_PORT" --server-address="127.0.0.1:$KWOK_PORT" \
    --tls-cert-file="$PKI/kwok.crt" --tls-private-key-file="$PKI/kwok.key" \
    --cidr=10.244.0.0/16 --node-lease-duration-seconds=40
  wait_for kube-controller-manager 60 "kube-controller-manager healthy" curl -fsSk --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz"
  wait_for kube-scheduler 60 "kube-scheduler healthy" curl -fsSk --max-time 2 "https://127.0.0.1:$SCHED_PORT/healthz"
  "$KUBECTL" apply -f "$HERE/node.yaml" >/dev/null
  wait_for kwok 60 "node kwok-node-0 Ready" "$KUBECTL" wait --for=condition=Ready node --all --timeout=1s
  # The ServiceAccount admission plugin rejects pods until the 'default' SA exists.
  wait_for kube-controller-manager 60 "ServiceAccount default/default exists" "$KUBECTL" -n default get serviceaccount default
}

stop_group() { # SIGTERM a group in parallel, SIGKILL after 5 s
  local n pid pids=()
  for n in "$@"; do
    [ -f "$PIDS/$n.pid" ] || continue
    pid=$(cat "$PIDS/$n.pid"); rm -f "$PIDS/$n.pid"
    kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" && pids+=("$pid")
  done
  [ ${#pids[@]} -eq 0 ] && return 0
  for _ in $(seq 25); do
    local left=0; for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
    [ $left = 0 ] && return 0; sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"; done
  return 0
}

down() {
  stop_group kwok kube-scheduler kube-controller-manager
  stop_group kube-apiserver
  stop_group etcd
  rm -rf "$RUN/etcd"
  log "control plane stopped"
}

status() {
  local n rc=0
  for n in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
    if alive $n; then echo "$n running (pid $(cat "$PIDS/$n.pid"))"; else echo "$n not running"; rc=1; fi
  done
  return $rc
}

case ${1:-} in up) up;; down) down;; status) status;; *) echo "usage: $0 up|down|status" >&2; exit 2;; esac
