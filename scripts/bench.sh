#!/usr/bin/env bash
# make bench: wall-clock figures of the toolchain, the tests and pulumi on the sim control
# plane, appended as text to bench/results.txt with the machine described. Targets live in
# bench/README.md, never in tests.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/env.sh"
cd "$ROOT"
OUT=$ROOT/bench/results.txt
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); awk -v a="$s" -v b="$e" 'BEGIN{printf "%.1f", b-a}'; }
{
  echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3), load $(cut -d' ' -f1-3 /proc/loadavg)"
  latency() { # the latency profile: instant, then start latencies like a real cluster's
    go mod download
    for profile in 0:0 8000:5000; do   # pod Ready ms : Job done ms
      "$ROOT/scripts/isolated.sh" env GOFLAGS="$GOFLAGS -mod=mod -tags=noeks" GOPROXY=off "$ROOT/scripts/bench-latency.sh" "${profile%:*}" "${profile#*:}"
    done
  }
  refusal() { # a bad configuration refused by make render: the first run builds, the next must not
    local bad=zz-bench-refusal
    printf 'config:\n  spaceone:clusterType: local\n  spaceone:kubeContext: minikube\n  spaceone:namespace: default\n' > "stacks/Pulumi.$bad.yaml"
    for run in "first (builds the program)" "again (program built)"; do
      echo "make render refusing a bad configuration, $run: $(t env --default-signal=INT,QUIT scripts/render.sh "$bad" "$(mktemp -d)")s"
    done
    rm -f "stacks/Pulumi.$bad.yaml"; rm -rf ".pulumi/render/$bad"
  }
  case ${BENCH:-} in   # make bench BENCH=latency|refusal: only that
    latency) latency; exit 0 ;;
    refusal) refusal; exit 0 ;;
  esac
  echo "make tools (warm cache): $(t scripts/tools.sh)s"
  go test ./components/... >/dev/null 2>&1 || true
  echo "unit tests (warm build cache, -count=1): $(t go test -count=1 ./components/...)s"
  go test -count=1 -run TestMinikubeRequestsFit -v ./components/program 2>&1 | sed -n 's/.*\(minikube stack requests: .*\)/\1 (fits minikube --cpus 4 --memory 8g)/p'
  # The program's own build (what the language host runs before every preview/up), cold and warm:
  # wall seconds and peak memory of the go command and the compilers/linker it starts. Local
  # stacks build it with -tags noeks (what make up does), EKS stacks in full.
  for variant in "noeks:-tags=noeks" "full:"; do
    gc=$(mktemp -d)
    cold=$( { GOCACHE=$gc /usr/bin/time -f '%e s, peak RSS %M KB' go build ${variant#*:} -o "$gc/prog" . >/dev/null; } 2>&1 | tail -1)
    warm=$( { /usr/bin/time -f '%e s, peak RSS %M KB' go build ${variant#*:} -o "$gc/prog2" . >/dev/null; } 2>&1 | tail -1)
    rm -rf "$gc"
    echo "program build (go build, ${variant%%:*}), cold build cache: $cold; warm cache: $warm"
  done
  go mod download
  "$ROOT/scripts/isolated.sh" env GOFLAGS="$GOFLAGS -mod=mod -tags=noeks" GOPROXY=off "$ROOT/scripts/bench-sim.sh"   # as make up builds a local stack
  refusal
  latency
} | tee -a "$OUT"
