#!/usr/bin/env bash
# make test: unit tests (Pulumi mocks, no CLI) then integration tests (the real pulumi CLI and
# kubernetes provider against a sim control plane the tests start and stop themselves, in a
# network namespace that has only loopback).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/env.sh"
cd "$ROOT"
echo "== vet"
go vet ./...
echo "== unit tests (mocks)"
go test -count=1 ./components/... ./cmd/...
# The build make up uses for local stacks (no AWS SDKs): it must still deploy, and refuse EKS clearly.
go test -count=1 -tags noeks -run 'NoEKS' ./components/program
echo "== integration tests (sim control plane, loopback-only network namespace)"
# Everything the namespace cannot download must be ready first: modules and the test binary.
go mod download
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/integration.test" ./tests
# The real node (tests/realnode, a module of its own) and what it runs in place of the images.
(cd tests/realnode && go vet ./... && go test -count=1 ./... && go build -o "$tmp/realnode" .)
"$ROOT/scripts/runtimes.sh"
cd "$ROOT/tests"
"$ROOT/scripts/isolated.sh" env SPACEONE_INTEGRATION=1 SPACEONE_TEST_INTERRUPT_RUNS="${SPACEONE_TEST_INTERRUPT_RUNS:-}" GOFLAGS="$GOFLAGS -mod=mod" GOPROXY=off \
  SPACEONE_REALNODE="$tmp/realnode" \
  "$tmp/integration.test" -test.v -test.count=1 -test.timeout=60m ${TEST_RUN:+-test.run "$TEST_RUN"}
