#!/usr/bin/env bash
# Install what the real node (tests/realnode) runs in place of SpaceONE's images, pinned and
# cached outside the checkout, so a fresh clone on the same machine reuses it in seconds:
#
#   python/<release>   a virtual environment with SpaceONE's own packages from the Python
#                      package index, every version pinned in scripts/runtimes/requirements-<release>.txt
#   python/s3-standin  moto's S3 and mongomock for the backups' S3 test (requirements-s3-standin.txt)
#   python/lint        shellcheck, for the scripts (requirements-lint.txt)
#   ferretdb, consul   built from the Go module proxy (scripts/runtimes/build-go-runtimes.sh)
#   redis-server       Debian's package (redis-server, redis-tools)
#
# into ${SPACEONE_CACHE:-~/.cache/spaceone-pulumi}/runtimes. Idempotent. Prints where it is.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/versions.sh"
RUNTIMES=$SPACEONE_CACHE/runtimes
mkdir -p "$RUNTIMES"
T0=$(date +%s)

# Python: one environment per release (and the S3 stand-in's); rebuilt when its requirements
# file changes.
for req in "$ROOT"/scripts/runtimes/requirements-*.txt; do
  release=$(basename "$req" .txt); release=${release#requirements-}
  venv=$RUNTIMES/python/$release
  sum=$(sha256sum "$req" | cut -c1-16)
  if [ "$(cat "$venv/.requirements-sha" 2>/dev/null)" != "$sum" ]; then
    s=$(date +%s)
    # A venv is not relocatable: build it in place; the stamp, written last, marks it complete.
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$req"
    echo "$sum" > "$venv/.requirements-sha"
    echo "[runtimes] $(( $(date +%s) - s ))s: python/$release (SpaceONE $release packages)"
  fi
done

# Redis from Debian, without starting the packaged service (the tests start their own).
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  s=$(date +%s)
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [ -e "$policy" ] && had_policy=1
  [ $had_policy = 1 ] || { printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; }
  { apt-get install -y -qq redis-server redis-tools >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq redis-server redis-tools >/dev/null; }; }
  [ $had_policy = 1 ] || rm -f "$policy"
  echo "[runtimes] $(( $(date +%s) - s ))s: redis-server $(redis-server --version | awk '{print $3}')"
fi

"$ROOT/scripts/runtimes/build-go-runtimes.sh"
echo "[runtimes] ready in $(( $(date +%s) - T0 ))s: $RUNTIMES"
