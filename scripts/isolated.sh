#!/usr/bin/env bash
# Run a command in a new network namespace that has only loopback (used by `make test` for
# the integration tests, which start and stop their own sim control plane in there).
set -euo pipefail
exec unshare --net -- bash -c 'ip link set lo up
links=$(ip -o link show | awk -F": " "{print \$2}" | grep -v "^lo$" || true)
[ -z "$links" ] || { echo "not isolated: $links" >&2; exit 1; }
exec "$@"' isolated "$@"
