#!/usr/bin/env bash
# Build the Go-based runtimes (FerretDB with its SQLite backend, Consul) from the Go module
# proxy into a cache outside the checkout:
#   $SPACEONE_CACHE/runtimes/<tool>/<version>/<tool>
# Idempotent: a tool is built only when its versioned binary is missing. Needs only `go`
# (plus coreutils/sed/grep/awk); no git, no release pages, no cgo.
#
#   scripts/runtimes/build-go-runtimes.sh            # both
#   scripts/runtimes/build-go-runtimes.sh ferretdb   # just one (ferretdb | consul)
#   GO_BUILD_P=1 scripts/runtimes/build-go-runtimes.sh   # go build -p=1 when memory is tight
#
# FerretDB v1.24 needs go >= 1.24 (an older go fetches go1.24.3 itself unless GOTOOLCHAIN=local).
# Cost on 2 cores (go1.26): FerretDB ~2 min / ~0.7 GB RSS, Consul ~5-6 min / ~1.8 GB RSS.
set -euo pipefail
shopt -s inherit_errexit

FERRETDB_VERSION=${FERRETDB_VERSION:-v1.24.2}  # newest v1.24.x on the proxy (v1.x = SQLite/PostgreSQL backends)
CONSUL_VERSION=${CONSUL_VERSION:-v1.15.7}      # newest MPL-2.0 1.15.x the proxy serves (v1.15.10 is BUSL; .8/.9/.11+ not served)

SPACEONE_CACHE=${SPACEONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spaceone-pulumi}
RUNTIMES_DIR=$SPACEONE_CACHE/runtimes

export GOFLAGS="-buildvcs=false${GO_BUILD_P:+ -p=$GO_BUILD_P}"
export CGO_ENABLED=0
LDSTRIP="-s -w"

command -v go >/dev/null || { echo "[runtimes] go is not on PATH" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/spaceone-go-runtimes.XXXXXX")
cleanup() { chmod -R u+w "$WORK" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

log() { echo "[runtimes] $*"; }

# jfield FIELD  -- first top-level-ish "FIELD": "value" from `go mod download -json` on stdin
jfield() { sed -n "/^[[:space:]]*\"$1\": \"/{s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}$/\1/p;q;}"; }

# fetch_src MODULE VERSION DEST  -- writable copy of the module zip's contents; prints the JSON
fetch_src() {
  local json dir
  json=$(go mod download -json "$1@$2")
  dir=$(jfield Dir <<<"$json")
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then echo "$json" >&2; return 1; fi
  cp -R "$dir" "$3"
  chmod -R u+w "$3"
  printf '%s\n' "$json"
}

# install_bin SRC DEST  -- atomic, so a half-written binary never satisfies the skip check
install_bin() {
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.tmp.$$"
  chmod 0755 "$2.tmp.$$"
  mv -f "$2.tmp.$$" "$2"
}

build_ferretdb() {
  local v=$FERRETDB_VERSION dest=$RUNTIMES_DIR/ferretdb/$FERRETDB_VERSION/ferretdb
  if [ -x "$dest" ]; then log "ferretdb $v: cached ($dest)"; return; fi
  local t0=$SECONDS src=$WORK/ferretdb-src out
  log "ferretdb $v: building"
  fetch_src github.com/FerretDB/FerretDB "$v" "$src" >/dev/null
  # The module zip lacks the generated build/version/version.txt (embedded via go:embed);
  # without it the binary panics at start-up. commit.txt/branch.txt are optional.
  printf '%s\n' "$v" >"$src/build/version/version.txt"
  # Default tags include the SQLite backend (pure Go modernc.org/sqlite) and PostgreSQL;
  # ferretdb_no_sqlite / ferretdb_no_postgresql would remove them, ferretdb_hana adds Hana.
  (cd "$src" && go build -trimpath -ldflags "$LDSTRIP" -o "$WORK/ferretdb" ./cmd/ferretdb)
  out=$("$WORK/ferretdb" --version)
  grep -qx "version: $v" <<<"$out" || { echo "[runtimes] ferretdb --version mismatch" >&2; exit 1; }
  install_bin "$WORK/ferretdb" "$dest"
  log "ferretdb $v: built in $((SECONDS - t0))s -> $dest"
}

build_consul() {
  local v=$CONSUL_VERSION dest=$RUNTIMES_DIR/consul/$CONSUL_VERSION/consul
  if [ -x "$dest" ]; then log "consul $v: cached ($dest)"; return; fi
  local t0=$SECONDS src=$WORK/consul-src json commit date info m mods out
  log "consul $v: building"
  json=$(fetch_src github.com/hashicorp/consul "$v" "$src")
  # Refuse a BUSL release (HashiCorp relicensed later patch releases).
  grep -q "Mozilla Public License" "$src/LICENSE" || { echo "[runtimes] consul $v is not MPL-2.0 licensed; refusing" >&2; exit 1; }
  commit=$(jfield Hash <<<"$json"); commit=${commit:0:8}
  info=$(jfield Info <<<"$json")
  date=$(sed -n 's/.*"Time":[[:space:]]*"\([^"]*\)".*/\1/p' "$info")

  cd "$src"
  # go.mod replaces api, sdk, proto-public, envoyextensions, troubleshoot with ./<dir>, but the
  # module zip omits those nested modules. Drop every local-path replace so they resolve to the
  # versions go.mod requires, fetched from the proxy.
  mods=$(awk '
    /^replace[[:space:]]*\(/ { blk=1; next }
    blk && /^\)/             { blk=0; next }
    blk && /=>[[:space:]]*\.\.?\// { print $1 }
    /^replace[[:space:]]+[^(]/ && /=>[[:space:]]*\.\.?\// { print $2 }' go.mod)
  for m in $mods; do go mod edit -dropreplace="$m"; done
  # Record go.sum lines for the now-external submodules (no `go mod tidy`: it would re-resolve
  # test-only deps and may bump versions).
  # shellcheck disable=SC2086
  [ -z "$mods" ] || go mod download $mods

  # troubleshoot v0.2.0 (what 1.15.x requires) predates consul's go-control-plane v0.11.1 bump and
  # blank-imports three envoy packages that v0.11.1 no longer has. Put a patched copy back where
  # upstream keeps it (./troubleshoot, a nested module), minus blank imports of packages missing
  # from the go-control-plane version in the build graph.
  if grep -qx 'github.com/hashicorp/consul/troubleshoot' <<<"$mods"; then
    local ts=$src/troubleshoot tsv gcp f p
    tsv=$(go list -m -f '{{.Version}}' github.com/hashicorp/consul/troubleshoot)
    fetch_src github.com/hashicorp/consul/troubleshoot "$tsv" "$ts" >/dev/null
    f=$ts/proxy/z_xds_packages.go
    if [ -f "$f" ]; then
      gcp=$(go list -m -f '{{.Path}}@{{.Version}}' github.com/envoyproxy/go-control-plane)
      # shellcheck disable=SC2046
      for p in $(go list -e -f '{{with .Error}}{{$.ImportPath}}{{end}}' \
          $(sed -n 's/^[[:space:]]*_ "\(github.com\/envoyproxy\/go-control-plane\/[^"]*\)".*/\1/p' "$f")); do
        log "consul: troubleshoot $tsv: dropping blank import $p (not in $gcp)"
        sed -i "\#\"$p\"#d" "$f"
      done
    fi
    go mod edit -replace=github.com/hashicorp/consul/troubleshoot=./troubleshoot
  fi

  local ld="$LDSTRIP"
  [ -z "$commit" ] || ld="$ld -X github.com/hashicorp/consul/version.GitCommit=$commit"
  [ -z "$date" ] || ld="$ld -X github.com/hashicorp/consul/version.BuildDate=$date"
  go build -trimpath -ldflags "$ld" -o "$WORK/consul" .
  cd - >/dev/null
  out=$("$WORK/consul" version)
  grep -qx "Consul $v" <<<"$out" || { echo "[runtimes] consul version mismatch" >&2; exit 1; }
  install_bin "$WORK/consul" "$dest"
  log "consul $v: built in $((SECONDS - t0))s -> $dest"
}

T0=$SECONDS
tools=("$@"); [ ${#tools[@]} -gt 0 ] || tools=(ferretdb consul)
for t in "${tools[@]}"; do
  case $t in
    ferretdb) build_ferretdb ;;
    consul) build_consul ;;
    *) echo "[runtimes] unknown tool: $t (ferretdb | consul)" >&2; exit 2 ;;
  esac
done
log "done in $((SECONDS - T0))s"
