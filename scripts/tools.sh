#!/usr/bin/env bash
# Build every binary the project needs from Go modules, into a cache outside the checkout
# (see scripts/versions.sh). Idempotent: a binary is built only when its versioned
# directory lacks it, so a fresh clone on the same machine reuses the cache in seconds.
#
#   pulumi CLI, pulumi-language-go   (skipped when a pulumi of your own is on PATH;
#                                      SPACEONE_BUILD_PULUMI=1 builds ours anyway)
#   pulumi-resource-kubernetes       (label = pulumi-kubernetes/sdk/v4 version in go.mod)
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok  (the sim stack)
#   kube-score                       (manifest lint in the tests)
#
# and installs the provider into Pulumi's plugin cache (${PULUMI_HOME:-~/.pulumi}/plugins).
#
# Nothing is downloaded from release pages: only `go` talks to the module proxy.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/versions.sh"
export GOFLAGS=-buildvcs=false
LDSTRIP="-s -w"
T0=$(date +%s)
step() { local s; s=$(date +%s); "$@"; echo "[tools] $(( $(date +%s) - s ))s: ${*: -1}"; }
have() { [ -x "$1" ]; }

# The plugin label must be the version the Go SDK asks the engine for.
sdk_v4=$(awk '$1=="github.com/pulumi/pulumi-kubernetes/sdk/v4"{print $2}' "$ROOT/go.mod" 2>/dev/null || true)
if [ -n "$sdk_v4" ] && [ "v$K8S_PLUGIN_VERSION" != "$sdk_v4" ]; then
  echo "scripts/versions.sh: K8S_PLUGIN_VERSION=$K8S_PLUGIN_VERSION but go.mod requires pulumi-kubernetes/sdk/v4 $sdk_v4;" >&2
  echo "  set K8S_PLUGIN_VERSION=${sdk_v4#v} so the engine finds the plugin it asks for." >&2
  exit 1
fi

# 1. pulumi CLI. `go install pkg@version` is refused (pkg/v3's go.mod has replace directives),
#    so build through a throwaway wrapper module.
own_pulumi=$(command -v pulumi 2>/dev/null || true)
if [ -n "$own_pulumi" ] && [ "$own_pulumi" != "$PULUMI_CLI_DIR/pulumi" ] && [ "${SPACEONE_BUILD_PULUMI:-0}" != 1 ]; then
  echo "[tools] using your pulumi at $own_pulumi ($(pulumi version 2>/dev/null)); SPACEONE_BUILD_PULUMI=1 builds ours"
elif ! have "$PULUMI_CLI_DIR/pulumi"; then
  w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
  printf 'module pulumi-cli-wrapper\n\ngo 1.26\n\nrequire github.com/pulumi/pulumi/pkg/v3 %s\n\n// mirrors the replace in pkg/v3/go.mod (ignored for dependencies)\nreplace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e\n' "$PULUMI_VERSION" > "$w/go.mod"
  (cd "$w" && step go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION" &&
   step go build -ldflags "$LDSTRIP -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
     -o "$PULUMI_CLI_DIR/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mv "$PULUMI_CLI_DIR/pulumi.tmp" "$PULUMI_CLI_DIR/pulumi"
  rm -rf "$w"; trap - EXIT
fi

# 2. Go language host: its own module is refused by the proxy; the copy inside sdk/v3 <= v3.62.0 is not.
own_langgo=$(command -v pulumi-language-go 2>/dev/null || true)
if [ -n "$own_pulumi" ] && [ -n "$own_langgo" ] && [ "$own_langgo" != "$LANGGO_DIR/pulumi-language-go" ] && [ "${SPACEONE_BUILD_PULUMI:-0}" != 1 ]; then
  echo "[tools] using your pulumi-language-go at $own_langgo"
elif ! have "$LANGGO_DIR/pulumi-language-go"; then
  w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
  printf 'module langgo-wrapper\n\ngo 1.26\n\nrequire github.com/pulumi/pulumi/sdk/v3 %s\n\nreplace golang.org/x/text => golang.org/x/text v0.3.6\n' "$LANGGO_SDK_VERSION" > "$w/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go"\n' > "$w/tools.go"
  (cd "$w" && step go mod tidy &&
   step go build -ldflags "$LDSTRIP -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LANGGO_SDK_VERSION" \
     -o "$LANGGO_DIR/pulumi-language-go" github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go)
  rm -rf "$w"; trap - EXIT
fi

# 2b. The CLI now hands runtime options (Pulumi.yaml runtime.options.buildTarget) to the
#     language host in its requests, which this v3.62 host predates; it only reads flags. This
#     shim passes a build target as a flag, so `go build` finds an unchanged program up to date
#     and skips relinking it (~10 s per preview/up/destroy). The path is relative to the project.
if [ -x "$LANGGO_DIR/pulumi-language-go" ]; then
  mkdir -p "$LANGGO_DIR/shim"
  printf '#!/bin/sh\n# spaceone-pulumi: a fixed build target for the v3.62 Go language host (see scripts/tools.sh)\nexec "%s" -buildTarget=.pulumi/bin/spaceone-program "$@"\n' \
    "$LANGGO_DIR/pulumi-language-go" > "$LANGGO_DIR/shim/pulumi-language-go.tmp"
  chmod +x "$LANGGO_DIR/shim/pulumi-language-go.tmp" && mv "$LANGGO_DIR/shim/pulumi-language-go.tmp" "$LANGGO_DIR/shim/pulumi-language-go"
fi

# 3. Kubernetes provider: the module zip lacks its generated go:embed files and replaces sdk/v4
#    with ../sdk, so copy the source, drop the replace, generate, build.
if ! have "$K8S_PROVIDER_DIR/pulumi-resource-kubernetes"; then
  src=$(go mod download -json "github.com/pulumi/pulumi-kubernetes/provider/v4@$K8S_PROVIDER_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
  cp -r "$src" "$w/k8s"; chmod -R u+w "$w/k8s"
  (cd "$w/k8s" && go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4 && step go mod tidy &&
   (cd cmd/pulumi-resource-kubernetes && VERSION="$K8S_PLUGIN_VERSION" step go run generate.go) &&
   step go build -ldflags "$LDSTRIP -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PLUGIN_VERSION" \
     -o "$K8S_PROVIDER_DIR/pulumi-resource-kubernetes.tmp" ./cmd/pulumi-resource-kubernetes)
  mv "$K8S_PROVIDER_DIR/pulumi-resource-kubernetes.tmp" "$K8S_PROVIDER_DIR/pulumi-resource-kubernetes"
  rm -rf "$w"; trap - EXIT
fi

# 4. The sim control plane: three wrapper modules (go.mod/go.sum committed under scripts/toolchain).
TC=$ROOT/scripts/toolchain
KLD="-s -w"
for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  KLD="$KLD -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=2026-01-01T00:00:00Z"
done
for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  have "$KUBE_DIR/$c" && continue
  (cd "$TC/kube" && CGO_ENABLED=0 step go build -trimpath -tags=selinux,notest,grpcnotrace -ldflags "$KLD" \
     -o "$KUBE_DIR/$c.tmp" "k8s.io/kubernetes/cmd/$c") && mv "$KUBE_DIR/$c.tmp" "$KUBE_DIR/$c"
done
if ! have "$ETCD_DIR/etcd"; then
  (cd "$TC/etcd" && CGO_ENABLED=0 step go build -trimpath -ldflags "-s -w" -o "$ETCD_DIR/etcd.tmp" go.etcd.io/etcd/server/v3) &&
    mv "$ETCD_DIR/etcd.tmp" "$ETCD_DIR/etcd"
fi
if ! have "$KWOK_DIR/kwok"; then
  (cd "$TC/kwok" && CGO_ENABLED=0 step go build -trimpath -ldflags "-s -w" -o "$KWOK_DIR/kwok.tmp" sigs.k8s.io/kwok/cmd/kwok) &&
    mv "$KWOK_DIR/kwok.tmp" "$KWOK_DIR/kwok"
fi
# kwok refuses to start without Stage objects: use the "fast" stages shipped in its module.
if [ ! -s "$KWOK_DIR/stages.yaml" ]; then
  kd=$(cd "$TC/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo '---'; cat "$kd/kustomize/stage/$f"
  done > "$KWOK_DIR/stages.yaml.tmp" && mv "$KWOK_DIR/stages.yaml.tmp" "$KWOK_DIR/stages.yaml"
fi

# 5. kube-score, the manifest linter the tests run over `make render` output.
if ! have "$KUBE_SCORE_DIR/kube-score"; then
  GOBIN="$KUBE_SCORE_DIR" step go install "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
fi

# 6. The provider into Pulumi's ordinary plugin cache, where the engine looks for the version the
#    Go SDK asks for: make, the tests (their homes link to this cache) and a plain `pulumi up`
#    all find it there, and Pulumi.yaml names no path into the checkout. Installed again only
#    when the cache holds another build under that version.
plugin_home=${PULUMI_HOME:-$HOME/.pulumi}
installed=$plugin_home/plugins/resource-kubernetes-v$K8S_PLUGIN_VERSION/pulumi-resource-kubernetes
if ! cmp -s "$K8S_PROVIDER_DIR/pulumi-resource-kubernetes" "$installed"; then
  pulumi_cli=$(command -v pulumi || echo "$PULUMI_CLI_DIR/pulumi")
  PULUMI_HOME=$plugin_home PULUMI_SKIP_UPDATE_CHECK=true step "$pulumi_cli" plugin install resource kubernetes \
    "v$K8S_PLUGIN_VERSION" --reinstall --file "$K8S_PROVIDER_DIR/pulumi-resource-kubernetes"
fi
echo "[tools] ready in $(( $(date +%s) - T0 ))s (cache: $SPACEONE_CACHE)"
