# shellcheck shell=bash disable=SC2034 # the names are read by the scripts that source this file
# Pinned versions of every binary the project builds, and where they are cached.
# Sourced by scripts/tools.sh and scripts/env.sh; change a version here and `make tools`
# builds the new one beside the old (the cache is keyed by version).
PULUMI_VERSION=${PULUMI_VERSION:-v3.274.1}          # github.com/pulumi/pulumi/pkg/v3 (CLI)
LANGGO_SDK_VERSION=${LANGGO_SDK_VERSION:-v3.62.0}   # last sdk/v3 that still contains go/pulumi-language-go
K8S_PROVIDER_VERSION=${K8S_PROVIDER_VERSION:-v4.0.0-20260115033456-f47bc2d6f199}  # only provider/v4 the proxy serves
# The engine asks for the kubernetes plugin at the version pulumi-kubernetes/sdk/v4 declares, so the
# plugin's label must equal the sdk/v4 version in go.mod (checked by scripts/tools.sh).
K8S_PLUGIN_VERSION=${K8S_PLUGIN_VERSION:-4.32.0}
KUBE_VERSION=${KUBE_VERSION:-v1.36.3}               # kube-apiserver, controller-manager, scheduler, kubectl
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
KUBE_SCORE_VERSION=${KUBE_SCORE_VERSION:-v1.20.0}   # manifest lint used by the tests

SPACEONE_CACHE=${SPACEONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spaceone-pulumi}
PULUMI_CLI_DIR=$SPACEONE_CACHE/pulumi-cli/$PULUMI_VERSION
LANGGO_DIR=$SPACEONE_CACHE/pulumi-language-go/$LANGGO_SDK_VERSION
K8S_PROVIDER_DIR=$SPACEONE_CACHE/pulumi-resource-kubernetes/$K8S_PLUGIN_VERSION-${K8S_PROVIDER_VERSION##*-}
KUBE_DIR=$SPACEONE_CACHE/kubernetes/$KUBE_VERSION
ETCD_DIR=$SPACEONE_CACHE/etcd/$ETCD_VERSION
KWOK_DIR=$SPACEONE_CACHE/kwok/$KWOK_VERSION
KUBE_SCORE_DIR=$SPACEONE_CACHE/kube-score/$KUBE_SCORE_VERSION
