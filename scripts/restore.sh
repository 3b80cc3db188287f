#!/usr/bin/env bash
# make restore STACK= FROM=<backup>: put a backup back into the stack's platform. It sets the
# stack's spaceone:restore to the backup's name and runs up, which runs the restore Job (see
# the README, "Backups and restore"); a plain `pulumi config set spaceone:restore` and
# `pulumi up` does the same.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK=${1:?stack}; FROM=${2:?"FROM=<backup name>, as make backup printed it"}
. "$ROOT/scripts/env.sh"
cd "$ROOT"
pulumi config set spaceone:restore "$FROM" --stack "$STACK"
exec "$ROOT/scripts/up.sh" up "$STACK"
