#!/usr/bin/env bash
# Fails within seconds, with the fix, when a local stack's cluster cannot be reached
# (cmd/stackcluster -reach).
# Usage: preflight.sh STACK
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/env.sh"
cd "$ROOT"
stackcluster -reach "${1:?stack}"
