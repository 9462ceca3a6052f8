#!/usr/bin/env bash
# For machines with Docker and internet access (NOT runnable in our offline CI VMs, where kind cannot
# start: no kindest/node image and no privileged containers; use hack/local-cluster.sh there).
#
# Creates a kind cluster and loads the e2e images into it, so `make test-e2e` can run against it:
#   hack/kind-up.sh
#   kind get kubeconfig --name understudy-e2e >/tmp/kind-e2e.kubeconfig
#   KUBECONFIG=/tmp/kind-e2e.kubeconfig make test-e2e
#   kind delete cluster --name understudy-e2e
# Untested here: written for kind v0.2x; the suite itself does not depend on kind.
#
# The images are the same as the local cluster's: understudy:e2e (the Dockerfile's binary) and
# understudy-e2e-member:e2e (test/e2e/memberserver) and understudy-e2e-mssqlsim:e2e (the SQL Server
# simulator test/mssqlsim).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLUSTER=${KIND_CLUSTER_NAME:-understudy-e2e}
OPERATOR_IMAGE=${OPERATOR_IMAGE:-understudy:e2e}
MEMBER_IMAGE=${MEMBER_IMAGE:-understudy-e2e-member:e2e}
MSSQL_IMAGE=${MSSQL_IMAGE:-understudy-e2e-mssqlsim:e2e}

command -v kind >/dev/null || { echo "kind-up: kind is not installed (https://kind.sigs.k8s.io)" >&2; exit 1; }
command -v docker >/dev/null || { echo "kind-up: docker is not installed" >&2; exit 1; }

if ! kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  kind create cluster --name "$CLUSTER" --wait 120s
fi

docker build -t "$OPERATOR_IMAGE" --build-arg VERSION=e2e "$ROOT"
# The member server is a static binary packed without Docker (the same tool as the local cluster uses),
# then loaded from its archive.
mkdir -p "$ROOT/bin/images/bin"
(cd "$ROOT" && CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" -o bin/images/bin/memberserver ./test/e2e/memberserver)
(cd "$ROOT" && CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" -o bin/images/bin/mssqlsim ./test/mssqlsim/cmd/mssqlsim)
(cd "$ROOT" && go run ./hack/imagepack -o bin/images/member.tar -tag "$MEMBER_IMAGE" -arch "$(go env GOARCH)" \
  -entrypoint /memberserver -user 65532:65532 bin/images/bin/memberserver=/memberserver)
(cd "$ROOT" && go run ./hack/imagepack -o bin/images/mssqlsim.tar -tag "$MSSQL_IMAGE" -arch "$(go env GOARCH)" \
  -entrypoint /mssqlsim -user 65532:65532 bin/images/bin/mssqlsim=/mssqlsim)

kind load docker-image "$OPERATOR_IMAGE" --name "$CLUSTER"
kind load image-archive "$ROOT/bin/images/member.tar" --name "$CLUSTER"
kind load image-archive "$ROOT/bin/images/mssqlsim.tar" --name "$CLUSTER"
kind get kubeconfig --name "$CLUSTER" >"$ROOT/bin/kind-$CLUSTER.kubeconfig"
echo "kind-up: cluster $CLUSTER ready; run: KUBECONFIG=$ROOT/bin/kind-$CLUSTER.kubeconfig make test-e2e"
