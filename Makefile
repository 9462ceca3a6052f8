# understudy — build, generate, test.
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMG ?= understudy:$(VERSION)

LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN_VERSION ?= v0.23.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_GEN_VERSION)

# envtest control plane version (kube-apiserver + etcd); see hack/envtest-assets.sh.
ENVTEST_K8S_VERSION ?= 1.37.0
GO_TEST_FLAGS ?= -race -count=1

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs (config/crd/bases) and RBAC (config/rbac/role.yaml).
	$(CONTROLLER_GEN) rbac:roleName=understudy-manager-role crd paths="./api/...;./controllers/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	@# ExternalDNS's DNSEndpoint CRD, from the pinned module, for tests, the demo and optional installs.
	cp "$$(go list -m -f '{{.Dir}}' sigs.k8s.io/external-dns)/config/crd/standard/dnsendpoints.externaldns.k8s.io.yaml" \
		config/crd/external/dnsendpoints.externaldns.k8s.io.yaml
	chmod 644 config/crd/external/dnsendpoints.externaldns.k8s.io.yaml
	go run ./hack/apidocs

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code.
	$(CONTROLLER_GEN) object paths="./api/..."

.PHONY: fmt
fmt: ## go fmt.
	go fmt ./...

.PHONY: vet
vet: ## go vet.
	go vet ./...

.PHONY: verify
verify: manifests generate ## Fail when generated files are stale.
	@if ! git diff --quiet -- api config docs/api.md; then \
		echo "generated files are stale; run 'make manifests generate' and commit:"; \
		git --no-pager diff --stat -- api config docs/api.md; exit 1; fi
	@if [ -n "$$(git status --porcelain -- api config docs/api.md)" ]; then \
		echo "untracked generated files; run 'make manifests generate' and commit:"; \
		git status --porcelain -- api config docs/api.md; exit 1; fi

.PHONY: envtest-assets
envtest-assets: ## Put kube-apiserver and etcd for envtest in bin/k8s (download or build offline).
	@K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/envtest-assets.sh

.PHONY: test
test: vet verify ## Run unit and envtest suites with -race (installs everything it needs).
	KUBEBUILDER_ASSETS="$$(K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/envtest-assets.sh)" \
		go test $(GO_TEST_FLAGS) ./...

##@ Build

.PHONY: build
build: ## Build the manager binary into bin/understudy.
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(LOCALBIN)/understudy .

.PHONY: run
run: ## Run the manager against the current kubeconfig.
	go run . --leader-elect=false

##@ Tools

$(CONTROLLER_GEN):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(LOCALBIN)/controller-gen $(CONTROLLER_GEN)
