#!/usr/bin/env bash
# make backup STACK=: take a backup of the stack's data now — a Job made from its backup
# CronJob, which writes every SpaceONE database (and Consul's keys, with 1.10.4) to the backup
# volume (local clusters) or bucket (eks) — and print the backup's name (what `make restore FROM=` takes).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK=${1:?stack}
. "$ROOT/scripts/env.sh"
cd "${SPACEONE_PROJECT_DIR:-$ROOT}"   # the tests point this at a throwaway project copy
. "$ROOT/scripts/stack.sh"
ns=$(out namespace) || { echo "stack $STACK has no outputs yet: run 'make up STACK=$STACK' first" >&2; exit 1; }
job=backup-$(date -u +%Y%m%d-%H%M%S)
if ! "${KUBECTL[@]}" -n "$ns" get cronjob backup >/dev/null 2>&1; then
  echo "stack $STACK has no backup CronJob (backups are made of an in-cluster MongoDB)" >&2; exit 1
fi
"${KUBECTL[@]}" -n "$ns" create job "$job" --from=cronjob/backup >/dev/null
echo "backup: job $job started in namespace $ns" >&2
state=
for _ in $(seq 900); do
  state=$("${KUBECTL[@]}" -n "$ns" get job "$job" -o jsonpath='{.status.conditions[?(@.status=="True")].type}')
  case " $state " in *" Complete "*|*" Failed "*) break ;; esac
  sleep 2
done
"${KUBECTL[@]}" -n "$ns" logs "job/$job" | sed -n '/^spaceone backup: /p' >&2
case " $state " in
  *" Complete "*) "${KUBECTL[@]}" -n "$ns" logs "job/$job" | tail -n 1 ;;
  *) echo "backup: job $job did not complete (${state:-still running}); see: ${KUBECTL[*]} -n $ns logs job/$job" >&2; exit 1 ;;
esac
