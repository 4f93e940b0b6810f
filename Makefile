# Sluice: service mesh and progressive delivery operator.
# Run `make help` for the targets.

IMG ?= ghcr.io/sluicemesh/sluice:$(VERSION)
VERSION ?= 0.1.0
# The Kubernetes version of the binaries built from Go modules for envtest and
# the local kwok cluster (hack/k8s-binaries.sh).
K8S_VERSION ?= v1.36.3

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

## Location to install tools to; never committed.
LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p $(LOCALBIN)

## Tool versions, pinned.
CONTROLLER_TOOLS_VERSION ?= v0.21.0
KUSTOMIZE_VERSION ?= v5.7.1
GOLANGCI_LINT_VERSION ?= v2.15.0

CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
KUSTOMIZE ?= $(LOCALBIN)/kustomize
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs, RBAC and webhook configurations from the code markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd webhook paths="./..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint (part of make test).
	$(GOLANGCI_LINT) run --allow-parallel-runners

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and fix what it can.
	$(GOLANGCI_LINT) run --fix

.PHONY: envtest-binaries
envtest-binaries: ## Build etcd and kube-apiserver for envtest into the per-user cache (slow once, then cached).
	K8S_VERSION=$(K8S_VERSION) hack/k8s-binaries.sh envtest

.PHONY: cluster-binaries
cluster-binaries: ## Build every binary of the local kwok cluster into the per-user cache.
	K8S_VERSION=$(K8S_VERSION) hack/k8s-binaries.sh cluster

.PHONY: test
test: manifests generate fmt vet lint cluster-binaries kustomize build-installer ## Run every test: unit, envtest integration and end-to-end.
	KUBEBUILDER_ASSETS="$$(K8S_VERSION=$(K8S_VERSION) hack/k8s-binaries.sh print-dir)" \
	  go test ./... -count=1 -timeout 30m

.PHONY: test-e2e
test-e2e: manifests generate cluster-binaries kustomize ## Run the end-to-end suites on a local kwok cluster (part of make test).
	KUBEBUILDER_ASSETS="$$(K8S_VERSION=$(K8S_VERSION) hack/k8s-binaries.sh print-dir)" \
	  go test ./test/e2e/... -count=1 -timeout 20m -v

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary.
	go build -o $(LOCALBIN)/manager ./cmd/manager

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the cluster of the current kubeconfig.
	go run ./cmd/manager

.PHONY: run-local
run-local: manifests cluster-binaries kustomize ## Start a local kwok cluster, install Sluice and the samples, run the manager (Ctrl-C stops all).
	K8S_VERSION=$(K8S_VERSION) KUSTOMIZE=$(KUSTOMIZE) hack/run-local.sh

.PHONY: docker-build
docker-build: ## Build the manager image (needs a Docker engine; there is none in this workplace).
	docker build -t $(IMG) .

.PHONY: build-installer
build-installer: manifests generate kustomize ## Render CRDs and the deployment into dist/install.yaml.
	mkdir -p dist
	@# A throwaway overlay sets the image, so the committed kustomization stays untouched.
	img='$(IMG)' && overlay=$$(mktemp -d config/.installer-XXXXXX) && trap 'rm -rf "$$overlay"' EXIT && \
	  printf 'resources:\n- ../default\nimages:\n- name: controller\n  newName: %s\n  newTag: %s\n' \
	    "$${img%:*}" "$${img##*:}" > "$$overlay/kustomization.yaml" && \
	  $(KUSTOMIZE) build "$$overlay" > dist/install.yaml

##@ Benchmarks

.PHONY: bench-proxy
bench-proxy: ## Benchmark the proxy against direct, a naive Go proxy, nginx and HAProxy on loopback, one table (BENCH_ARGS=--quick: under a minute).
	go run ./hack/bench-proxy $(BENCH_ARGS)

.PHONY: bench-canary
bench-canary: manifests cluster-binaries kustomize ## Benchmark the manager on N Canaries (blue/green, 10s x 2) on its own local kwok cluster, one table beside Flagger's (BENCH_ARGS=--n 20: a few minutes).
	go run ./hack/bench-canary $(BENCH_ARGS)

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kustomize ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Remove the CRDs. Call with ignore-not-found=true to ignore missing ones.
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy the operator to the cluster of the current kubeconfig.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | kubectl apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize ## Remove the operator. Call with ignore-not-found=true to ignore missing ones.
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: bundle
bundle: manifests kustomize ## Generate the OLM bundle (bundle/manifests, bundle/metadata, bundle.Dockerfile).
	go run ./hack/bundle --version $(VERSION) --image $(IMG) --kustomize $(KUSTOMIZE)

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen into bin/.
$(CONTROLLER_GEN): | $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Install kustomize into bin/.
$(KUSTOMIZE): | $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Install golangci-lint into bin/.
$(GOLANGCI_LINT): | $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

# go-install-tool installs a pinned tool as bin/<name>-<version> and links
# bin/<name> to it, so a version bump in this file reinstalls it.
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$$(basename "$(1)-$(3)")" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Installing $${package}" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" go install $${package} ;\
mv "$(LOCALBIN)/$$(basename "$(1)")" "$(1)-$(3)" ;\
} ;\
ln -sf "$$(basename "$(1)-$(3)")" "$(1)"
endef
