#!/usr/bin/env bash
# Makes sure the envtest control plane (kube-apiserver + etcd) is in bin/k8s/ and prints its directory.
#
# Order of attempts:
#   1. binaries already in the cache directory: nothing to do; or the same versions already built
#      for the local cluster (bin/cluster/, hack/local-cluster.sh): copied;
#   2. setup-envtest's normal download (works for users with internet access);
#   3. build both from the Go module proxy (works offline when only the proxy is reachable):
#      kube-apiserver from k8s.io/kubernetes via a wrapper module, etcd from go.etcd.io/etcd/server/v3.
# Only the directory is printed on stdout, so `KUBEBUILDER_ASSETS=$(hack/envtest-assets.sh)` works.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.37.0}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
SETUP_ENVTEST_VERSION=${SETUP_ENVTEST_VERSION:-v0.25.1}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GOOS=$(go env GOOS)
GOARCH=$(go env GOARCH)
DEST=${ENVTEST_ASSETS_DIR:-$ROOT/bin/k8s/$K8S_VERSION-$GOOS-$GOARCH}

log() { echo "envtest-assets: $*" >&2; }

have_assets() { [ -x "$DEST/kube-apiserver" ] && [ -x "$DEST/etcd" ]; }

if have_assets; then
  echo "$DEST"
  exit 0
fi
mkdir -p "$DEST"

# shellcheck source=hack/lib/k8s-build.sh
source "$ROOT/hack/lib/k8s-build.sh"

try_download() {
  [ "${ENVTEST_DOWNLOAD:-1}" = "1" ] || return 1
  log "trying setup-envtest $SETUP_ENVTEST_VERSION download of $K8S_VERSION"
  local bindir="$ROOT/bin"
  GOBIN="$bindir" go install "sigs.k8s.io/controller-runtime/tools/setup-envtest@$SETUP_ENVTEST_VERSION" >&2 || return 1
  local dir
  dir=$(timeout 120 "$bindir/setup-envtest" use "$K8S_VERSION" --bin-dir "$ROOT/bin/setup-envtest" -p path 2>/dev/null) || return 1
  [ -x "$dir/kube-apiserver" ] && [ -x "$dir/etcd" ] || return 1
  cp "$dir/kube-apiserver" "$dir/etcd" "$DEST/"
}

# The local cluster's build of the same Kubernetes version (and its etcd) serves envtest as well.
copy_from_cluster_cache() {
  local src="$ROOT/bin/cluster/$K8S_VERSION-$GOOS-$GOARCH"
  [ -x "$src/kube-apiserver" ] && [ -x "$src/etcd" ] || return 1
  [ "$("$src/etcd" --version 2>/dev/null | awk '/etcd Version/ {print $3}')" = "$ETCD_VERSION" ] || return 1
  cp "$src/kube-apiserver" "$src/etcd" "$DEST/"
}

if copy_from_cluster_cache; then
  log "copied from the local cluster's build cache into $DEST"
elif try_download; then
  log "downloaded into $DEST"
else
  log "download unavailable; building from the Go module proxy (several minutes, once)"
  start=$(date +%s)
  k8s_build "$K8S_VERSION" "$DEST" kube-apiserver >&2
  etcd_build "$ETCD_VERSION" "$DEST" >&2
  log "built in $(( $(date +%s) - start ))s into $DEST"
fi
have_assets || { log "kube-apiserver or etcd missing in $DEST"; exit 1; }
echo "$DEST"
