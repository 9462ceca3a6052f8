# shellcheck shell=bash
# Builds Kubernetes and etcd binaries from the Go module proxy, without a git checkout.
# Shared by hack/envtest-assets.sh (kube-apiserver + etcd) and the local cluster scripts.

# k8s_build VERSION DEST COMPONENT...  e.g. k8s_build 1.37.0 bin/k8s kube-apiserver kubelet
# k8s.io/kubernetes replaces each k8s.io/<staging> module with a directory of its own repository;
# a wrapper module pins each of them to the published v0.<minor>.<patch> instead.
k8s_build() {
  local version=$1 dest=$2
  shift 2
  local minor patch work gomod
  minor=$(echo "$version" | cut -d. -f2)
  patch=$(echo "$version" | cut -d. -f3)
  work=$(mktemp -d)
  trap 'rm -rf "$work"; trap - RETURN' RETURN
  gomod=$(go mod download -json "k8s.io/kubernetes@v$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module understudy.dev/k8s-build"
    echo
    echo "go 1.26.0"
    echo
    echo "require k8s.io/kubernetes v$version"
    echo
    grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" |
      awk -v v="v0.$minor.$patch" '{print "replace " $1 " => " $1 " " v}'
  } >"$work/go.mod"
  {
    echo "//go:build tools"
    echo "package tools"
    echo "import ("
    local c
    for c in "$@"; do echo "	_ \"k8s.io/kubernetes/cmd/$c\""; done
    echo ")"
  } >"$work/tools.go"
  (
    cd "$work"
    GOFLAGS=-mod=mod go mod tidy
    local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
    for c in "$@"; do
      echo "building $c v$version" >&2
      CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$dest/$c" "k8s.io/kubernetes/cmd/$c"
    done
  )
}

# etcd_build VERSION DEST: etcd's main package lives in the root module; the server module exports
# etcdmain.Main, so a three-line wrapper builds the same binary.
etcd_build() {
  local version=$1 dest=$2 work
  work=$(mktemp -d)
  trap 'rm -rf "$work"; trap - RETURN' RETURN
  cat >"$work/go.mod" <<MOD
module understudy.dev/etcd-build

go 1.26.0

require go.etcd.io/etcd/server/v3 v$version
MOD
  cat >"$work/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (
    cd "$work"
    GOFLAGS=-mod=mod go mod tidy
    echo "building etcd v$version" >&2
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dest/etcd" .
  )
}
