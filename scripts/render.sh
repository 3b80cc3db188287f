#!/usr/bin/env bash
# make render STACK=<stack> OUT=<dir> [RELEASE=<release>]: every Kubernetes manifest of a
# stack (with RELEASE: of that release instead of the stack's) as YAML in OUT,
# through the kubernetes provider's render-to-directory mode. No cluster is contacted and the
# stack's real state is untouched: the run uses a throwaway project copy and state backend.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK=${1:?stack}; OUT=${2:?output directory}; RELEASE=${3:-}
[ -n "${PULUMI_CONFIG_PASSPHRASE:-}" ] || unset PULUMI_CONFIG_PASSPHRASE   # empty = not given (pulumi would use it)
. "$ROOT/scripts/env.sh"
[ -f "$ROOT/stacks/Pulumi.$STACK.yaml" ] || { echo "no stack configuration stacks/Pulumi.$STACK.yaml" >&2; exit 1; }
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
# A copy of the project with its own state, at a fixed path per stack: the program's build
# target (.pulumi/bin, see scripts/tools.sh) survives from one render to the next, and go build
# relinks only when a source changed (a new path would relink every time: a refusal then took
# ~30 s, now seconds). Everything but the build is made afresh.
tmp=$ROOT/.pulumi/render/$STACK
mkdir -p "$tmp"
find "$tmp" -mindepth 1 -maxdepth 1 ! -name .pulumi -exec rm -rf {} +
trap 'rm -rf "$tmp/state" "$tmp/stacks"' EXIT
for f in Pulumi.yaml main.go go.mod go.sum components; do ln -s "$ROOT/$f" "$tmp/$f"; done
mkdir -p "$tmp/stacks" "$tmp/state"
cp "$ROOT/stacks/Pulumi.$STACK.yaml" "$tmp/stacks/Pulumi.$STACK.yaml"
if ! grep -q '^encryptionsalt:' "$tmp/stacks/Pulumi.$STACK.yaml"; then
  # No secret in this stack yet: a throwaway passphrase will do.
  unset PULUMI_CONFIG_PASSPHRASE_FILE
  export PULUMI_CONFIG_PASSPHRASE=render-only
fi   # else: the stack's own passphrase (scripts/env.sh), so its secrets decrypt
export PULUMI_BACKEND_URL=file://$tmp/state
unset KUBECONFIG   # the provider refuses render mode when KUBECONFIG is set
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=noeks"   # rendering never reaches AWS, even for eks stacks
cd "$tmp"
pulumi stack init "$STACK" >/dev/null
pulumi config set renderDir "$OUT" --stack "$STACK"
[ -z "$RELEASE" ] || pulumi config set release "$RELEASE" --stack "$STACK"
pulumi up --yes --skip-preview --stack "$STACK" >"$tmp/up.log" 2>&1 || { cat "$tmp/up.log" >&2; exit 1; }
# The provider writes Secrets as they are; a rendered file must not hold a password: every
# value of a Secret's data/stringData becomes "redacted", its keys stay (cmd/redactsecrets).
go -C "$ROOT" run ./cmd/redactsecrets "$OUT"/1-manifest/*.yaml
echo "rendered $(find "$OUT" -name '*.yaml' | wc -l) manifests of stack $STACK into $OUT"
