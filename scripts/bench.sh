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
  echo "make tools (warm cache): $(t scripts/tools.sh)s"
  go test ./components/... >/dev/null 2>&1 || true
  echo "unit tests (warm build cache, -count=1): $(t go test -count=1 ./components/...)s"
  go mod download
  "$ROOT/scripts/isolated.sh" env GOFLAGS=-mod=mod GOPROXY=off "$ROOT/scripts/bench-sim.sh"
} | tee -a "$OUT"
