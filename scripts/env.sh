# shellcheck shell=bash
# Sourced by the other scripts: the pulumi toolchain on PATH and everything that keeps it
# offline (the state in a file backend inside this checkout, no update check, no plugin
# downloads: the provider comes from Pulumi's plugin cache, where make tools installs it).
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
. "$ROOT/scripts/versions.sh"
for d in "$KUBE_DIR" "$LANGGO_DIR" "$LANGGO_DIR/shim" "$PULUMI_CLI_DIR"; do
  [ -d "$d" ] && PATH=$d:$PATH
done
export PATH
# Pulumi's own default home: its plugin cache holds the provider make tools built (scripts/tools.sh).
export PULUMI_HOME=${PULUMI_HOME:-$HOME/.pulumi}
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$ROOT/.pulumi/state}
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
# Every Deployment's await holds one of pulumi's parallel slots until its pods are ready, and
# the default is 4 x cores (8 here): a first install's ~25 workloads then start eight at a
# time, whatever the start order allows (bench/README.md, latency profile).
export PULUMI_PARALLEL=${PULUMI_PARALLEL:-64}
# -trimpath: without it a package's build depends on its directory, so every copy of the
# project (make render's, the tests' and the bench's) recompiled the components (~45 s) and
# left ~0.5 GB more in Go's build cache; with it the second copy builds in ~5 s and adds nothing.
# Scripts that set GOFLAGS for a namespace of their own extend this value rather than replace it.
case " ${GOFLAGS:-} " in *" -trimpath "*) ;; *) export GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath" ;; esac
mkdir -p "${PULUMI_BACKEND_URL#file://}" "$PULUMI_HOME"

# stackcluster [-reach] STACK: where STACK deploys, read from its stack file in the working
# directory (the project) as the program reads it, or, with -reach, whether that cluster answers
# (cmd/stackcluster, built on first use; go run would add "exit status 1" to its errors).
stackcluster() {
  local bin=$ROOT/.pulumi/bin/stackcluster
  go -C "$ROOT" build -o "$bin" ./cmd/stackcluster && "$bin" -dir "$PWD" "$@"
}
# read_stack_cluster STACK: sets CLUSTER_TYPE (local or eks), CLUSTER_KUBECONFIG (a local
# stack's own kubeconfig file, or empty) and CLUSTER_CONTEXT (its kube context; empty for that
# file's current one).
read_stack_cluster() {
  local out
  out=$(stackcluster "$1") || return 1
  # shellcheck disable=SC2034  # for the scripts that call it
  CLUSTER_TYPE=$(sed -n 's/^type=//p' <<<"$out")
  # shellcheck disable=SC2034
  CLUSTER_KUBECONFIG=$(sed -n 's/^kubeconfig=//p' <<<"$out")
  # shellcheck disable=SC2034
  CLUSTER_CONTEXT=$(sed -n 's/^context=//p' <<<"$out")
}
# The secrets passphrase: yours if you export one, otherwise generated once into an ignored file.
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  if [ ! -s "$ROOT/.pulumi/passphrase" ]; then
    (umask 077; openssl rand -base64 32 > "$ROOT/.pulumi/passphrase")
  fi
  export PULUMI_CONFIG_PASSPHRASE_FILE=$ROOT/.pulumi/passphrase
fi
