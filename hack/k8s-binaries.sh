#!/usr/bin/env bash
# Builds pinned Kubernetes binaries from the Go module proxy into a per-user cache
# outside the clone, keyed by version, and reuses them on later runs.
#
# Why: envtest's and kind's usual downloads are unreachable here and there is no
# Docker engine, so the control plane for tests and the local cluster is compiled
# from the same Go modules Kubernetes publishes.
#
# Usage: hack/k8s-binaries.sh envtest|cluster|print-dir
#   envtest   etcd and kube-apiserver (what controller-runtime envtest needs)
#   cluster   envtest's plus kube-controller-manager, kube-scheduler, kubectl, kwok, kwokctl
#   print-dir print the directory holding the binaries (built or not)
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.36.3}
ETCD_VERSION=${ETCD_VERSION:-v3.5.21}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
CACHE_ROOT=${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}
BIN_DIR="$CACHE_ROOT/k8s/$K8S_VERSION-etcd$ETCD_VERSION-kwok$KWOK_VERSION"

log() { printf '[k8s-binaries] %s\n' "$*" >&2; }

# build_in_module MODULE_DIR OUT PKG [LDFLAGS] builds PKG inside a throwaway module
# and moves the result into the cache only when the build succeeded.
build_in_module() {
  local dir=$1 out=$2 pkg=$3 ldflags=${4:-}
  if [[ -x "$BIN_DIR/$out" ]]; then return 0; fi
  log "building $out from $pkg (cached afterwards in $BIN_DIR)"
  local start=$SECONDS
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$BIN_DIR/.$out.tmp" "$pkg")
  mv "$BIN_DIR/.$out.tmp" "$BIN_DIR/$out"
  log "built $out in $((SECONDS - start))s"
}

# kube_module writes a module that requires k8s.io/kubernetes and replaces every
# staging module with its published release, as the kubernetes go.mod itself
# points them at ./staging, which does not exist outside its repository.
kube_module() {
  local dir="$CACHE_ROOT/modules/kubernetes-$K8S_VERSION"
  local tools
  tools=$(cat <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
)
  # Reuse the module only when it was made for the same set of commands.
  if [[ -f "$dir/.ready" && "$(cat "$dir/tools.go" 2>/dev/null)" == "$tools" ]]; then echo "$dir"; return; fi
  rm -f "$dir/.ready"
  mkdir -p "$dir"
  local staging_version="v0.${K8S_VERSION#v1.}"
  local gomod
  gomod=$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  {
    echo "module sluice.dev/hack/kubernetes-binaries"
    echo
    echo "go $(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    grep -E '^\s+k8s.io/[a-z0-9-]+ => \./staging/' "$gomod" \
      | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
  } >"$dir/go.mod"
  printf '%s\n' "$tools" >"$dir/tools.go"
  (cd "$dir" && go mod tidy -e >/dev/null 2>&1 || true)
  (cd "$dir" && GOFLAGS=-mod=mod go mod download)
  touch "$dir/.ready"
  echo "$dir"
}

simple_module() { # simple_module NAME MODULE VERSION
  local dir="$CACHE_ROOT/modules/$1"
  if [[ -f "$dir/.ready" ]]; then echo "$dir"; return; fi
  mkdir -p "$dir"
  printf 'module sluice.dev/hack/%s\n\ngo %s\n\nrequire %s %s\n' "$1" \
    "$(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')" "$2" "$3" >"$dir/go.mod"
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true)
  (cd "$dir" && GOFLAGS=-mod=mod go get "$2@$3" >/dev/null && GOFLAGS=-mod=mod go mod download)
  touch "$dir/.ready"
  echo "$dir"
}

kube_ldflags() {
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  # kubectl reads client-go's copy of the version, the servers component-base's.
  local v out=""
  for v in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    out+="-X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean -X $v.buildDate=1970-01-01T00:00:00Z "
  done
  echo "$out"
}

build_envtest() {
  mkdir -p "$BIN_DIR"
  local etcd_dir kube_dir
  etcd_dir=$(simple_module "etcd-$ETCD_VERSION" go.etcd.io/etcd/server/v3 "$ETCD_VERSION")
  build_in_module "$etcd_dir" etcd go.etcd.io/etcd/server/v3 "-X go.etcd.io/etcd/api/v3/version.GitSHA=sluice"
  kube_dir=$(kube_module)
  GOFLAGS=-mod=mod build_in_module "$kube_dir" kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$(kube_ldflags)"
}

build_cluster() {
  build_envtest
  local kube_dir kwok_dir
  kube_dir=$(kube_module)
  GOFLAGS=-mod=mod build_in_module "$kube_dir" kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$(kube_ldflags)"
  GOFLAGS=-mod=mod build_in_module "$kube_dir" kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler "$(kube_ldflags)"
  # A kubectl of the cluster's own version, so the local scripts need none installed.
  GOFLAGS=-mod=mod build_in_module "$kube_dir" kubectl k8s.io/kubernetes/cmd/kubectl "$(kube_ldflags)"
  kwok_dir=$(simple_module "kwok-$KWOK_VERSION" sigs.k8s.io/kwok "$KWOK_VERSION")
  local kv=sigs.k8s.io/kwok/pkg/consts
  GOFLAGS=-mod=mod build_in_module "$kwok_dir" kwok sigs.k8s.io/kwok/cmd/kwok "-X $kv.Version=$KWOK_VERSION"
  GOFLAGS=-mod=mod build_in_module "$kwok_dir" kwokctl sigs.k8s.io/kwok/cmd/kwokctl "-X $kv.Version=$KWOK_VERSION"
}

case "${1:-}" in
  envtest) build_envtest; echo "$BIN_DIR" ;;
  cluster) build_cluster; echo "$BIN_DIR" ;;
  print-dir) echo "$BIN_DIR" ;;
  *) echo "usage: $0 envtest|cluster|print-dir" >&2; exit 2 ;;
esac
