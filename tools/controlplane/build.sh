#!/usr/bin/env bash
# Builds the real control plane used by the tests (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, etcd, kwok) from the Go module proxy, into a cache outside git.
# Idempotent: a warm cache returns in seconds. Prints the bin directory on its last line.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"

CACHE_ROOT="${REBOOT_PILOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reboot-pilot}"
KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}"
OUT="$CACHE_ROOT/controlplane/$KEY"
BIN="$OUT/bin"
WANT=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
log() { printf '[controlplane %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

have_all() { for b in "${WANT[@]}"; do [ -x "$BIN/$b" ] || return 1; done; }
if have_all && [ -f "$OUT/.complete" ]; then
  log "cache hit: $BIN"
  echo "$BIN"; exit 0
fi

command -v go >/dev/null || { log "go not found on PATH: the control plane is built with Go >= 1.26"; exit 1; }
mkdir -p "$BIN" "$OUT/src"
START=$(date +%s)

# --- Kubernetes: wrapper module; the replace block is generated from the release's own go.mod ---
build_k8s() {
  local dir="$OUT/src/k8s" minor ver="${K8S_VERSION#v}"
  minor="$(echo "$ver" | cut -d. -f2)"
  local patch; patch="$(echo "$ver" | cut -d. -f3)"
  local staging="v0.${minor}.${patch}"
  mkdir -p "$dir"
  log "k8s $K8S_VERSION: reading the release's go.mod"
  local gomod
  gomod="$(cd "$dir" && go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  [ -f "$gomod" ] || { log "could not download k8s.io/kubernetes@${K8S_VERSION} go.mod"; exit 1; }
  local godebug gover
  godebug="$(grep -E '^godebug ' "$gomod" || true)"
  gover="$(grep -E '^go [0-9]' "$gomod" | head -1)"
  # Every k8s.io/* module required at v0.0.0 is a staging module published as v0.N.P.
  local mods
  # (Exactly v0.0.0: pseudo-versions such as k8s.io/utils v0.0.0-2026... are real and stay.)
  mods="$(awk '/^require \(/{r=1;next} r&&/^\)/{r=0;next} {l=$0; if (!r && l !~ /^require /) next; sub(/^require /,"",l); split(l,a," "); if (a[1] ~ /^k8s\.io\// && a[2] == "v0.0.0") print a[1]}' "$gomod" | sort -u)"
  [ -n "$mods" ] || { log "no staging modules found in $gomod"; exit 1; }
  {
    echo "module rebootpilot.local/controlplane/k8s"
    echo
    echo "$gover"
    [ -n "$godebug" ] && echo "$godebug"
    echo
    echo "require k8s.io/kubernetes ${K8S_VERSION}"
    echo
    echo "replace ("
    for m in $mods; do echo "	$m => $m $staging"; done
    echo ")"
  } > "$dir/go.mod"
  cat > "$dir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  log "k8s: $(echo "$mods" | wc -l) staging modules replaced with $staging; resolving modules (cold: several minutes)"
  (cd "$dir" && go mod tidy -e >/dev/null 2>"$dir/tidy.log" || { cat "$dir/tidy.log" >&2; exit 1; })
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=${K8S_VERSION} -X $p.gitMajor=1 -X $p.gitMinor=${minor} -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [ -x "$BIN/$c" ] && continue
    log "building $c (cold: the longest step)"
    (cd "$dir" && go build -trimpath -ldflags "$ld" -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c") && mv "$BIN/$c.tmp" "$BIN/$c"
  done
}

build_etcd() {
  [ -x "$BIN/etcd" ] && return
  local dir="$OUT/src/etcd"; mkdir -p "$dir"
  cat > "$dir/go.mod" <<GOMOD
module rebootpilot.local/controlplane/etcd

go 1.25.0

require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}
GOMOD
  cat > "$dir/tools.go" <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  log "etcd $ETCD_VERSION: resolving and building"
  (cd "$dir" && go mod tidy -e >/dev/null 2>"$dir/tidy.log" || { cat "$dir/tidy.log" >&2; exit 1; })
  (cd "$dir" && go build -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3) && mv "$BIN/etcd.tmp" "$BIN/etcd"
}

build_kwok() {
  [ -x "$BIN/kwok" ] && return
  log "kwok $KWOK_VERSION: building"
  GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
}

build_etcd
build_kwok
build_k8s

have_all || { log "missing binaries in $BIN"; exit 1; }
"$BIN/kube-apiserver" --version >&2
"$BIN/etcd" --version | head -1 >&2
touch "$OUT/.complete"
log "control plane ready in $(( $(date +%s) - START ))s: $BIN"
echo "$BIN"
