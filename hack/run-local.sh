#!/usr/bin/env bash
# The main job (make run-local): a local kwok cluster with Sluice installed and
# its manager running as a process against it, plus the samples. Ctrl-C or
# SIGTERM stops the manager and deletes the cluster; nothing is left running.
#
# Steps: build what is missing; start the cluster (hack/local-cluster.sh);
# create namespace sluice-system; install the CRDs and the webhook
# configurations, registered by URL on https://127.0.0.1:9443 (config/local and
# hack/webhook-urls: nothing may send a packet to a ClusterIP); run bin/manager;
# wait for /readyz; apply config/samples; print how to use kubectl; wait.
#
# Environment:
#   RUN_LOCAL_EXIT_AFTER_APPLY=1  non-interactive (tests, CI): check that
#       `kubectl get meshes,canaries,policies -A` lists the samples and every
#       sample Deployment is Available, then tear down and exit 0
#   KUSTOMIZE (default bin/kustomize), KUBECTL (default: the kubectl built with the cluster), K8S_VERSION,
#   WEBHOOK_PORT (9443), METRICS_ADDR (127.0.0.1:18443), PROBE_ADDR
#   (127.0.0.1:18081), RUN_LOCAL_STATE_DIR (~/.cache/sluice/run-local), and
#   those of hack/local-cluster.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
KUSTOMIZE=${KUSTOMIZE:-$ROOT/bin/kustomize}
KUBECTL=${KUBECTL:-$("$ROOT/hack/k8s-binaries.sh" print-dir)/kubectl}
NAMESPACE=sluice-system
WEBHOOK_PORT=${WEBHOOK_PORT:-9443}
METRICS_ADDR=${METRICS_ADDR:-127.0.0.1:18443}
PROBE_ADDR=${PROBE_ADDR:-127.0.0.1:18081}
EXIT_AFTER_APPLY=${RUN_LOCAL_EXIT_AFTER_APPLY:-0}
CACHE_ROOT=${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}
# The manager's log and certificates, the rendered samples.
STATE_DIR=${RUN_LOCAL_STATE_DIR:-$CACHE_ROOT/run-local}
MANAGER_LOG=$STATE_DIR/manager.log
CLUSTER=(hack/local-cluster.sh)

log() { printf '[run-local] %s\n' "$*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

MANAGER_PID=
CLUSTER_STARTED=
# teardown runs on every exit (normal, error, Ctrl-C, SIGTERM): the manager
# first, so it does not log errors about a vanishing API server, then the cluster.
teardown() {
  local code=$?
  trap - EXIT INT TERM
  if [[ -n "$MANAGER_PID" ]] && kill -0 "$MANAGER_PID" 2>/dev/null; then
    log "stopping the manager (pid $MANAGER_PID)"
    kill -TERM "$MANAGER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$MANAGER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$MANAGER_PID" 2>/dev/null || true
    wait "$MANAGER_PID" 2>/dev/null || true
  fi
  if [[ -n "$CLUSTER_STARTED" ]]; then
    log "deleting the local cluster"
    "${CLUSTER[@]}" down >/dev/null 2>&1 || log "cluster deletion failed: run hack/local-cluster.sh down"
  fi
  exit "$code"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

kubectl_local() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

build() {
  if [[ ! -x "$KUSTOMIZE" ]]; then make kustomize; fi
  K8S_VERSION=${K8S_VERSION:-v1.36.3} hack/k8s-binaries.sh cluster >/dev/null
  log "building bin/manager"
  go build -o bin/manager ./cmd/manager
}

install_crds() {
  local source=config/crd
  if [[ -f config/crd/kustomization.yaml ]]; then
    "$KUSTOMIZE" build config/crd | kubectl_local apply --server-side -f - >/dev/null
  else
    kubectl_local apply --server-side -f config/crd/bases >/dev/null
    source=config/crd/bases
  fi
  # The default Canary provider (sluice) routes with Gateway API HTTPRoutes:
  # install their CRDs from the Go module the operator is built with. The
  # experimental channel, since HTTPRoute retries are experimental in v1.6.
  local gateway_api
  gateway_api=$(go list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api)
  "$KUSTOMIZE" build "$gateway_api/config/crd/experimental" | kubectl_local apply --server-side -f - >/dev/null
  kubectl_local wait --for=condition=Established crd --all --timeout=60s >/dev/null
  log "installed the CRDs from $source and the Gateway API CRDs ($(go list -m -f '{{.Version}}' sigs.k8s.io/gateway-api), experimental)"
}

# install_webhooks registers the webhooks by URL on 127.0.0.1, where the manager
# serves them. It returns 1 when there are none yet (no markers generated).
install_webhooks() {
  if [[ ! -f config/webhook/manifests.yaml ]]; then
    log "config/webhook/manifests.yaml is missing (no webhook markers yet): running without admission webhooks"
    return 1
  fi
  "$KUSTOMIZE" build config/local | go run ./hack/webhook-urls --base "https://127.0.0.1:$WEBHOOK_PORT" |
    kubectl_local apply -f - >/dev/null
  log "registered the webhooks on https://127.0.0.1:$WEBHOOK_PORT"
}

start_manager() {
  rm -rf "$STATE_DIR/certs"
  mkdir -p "$STATE_DIR/certs"
  KUBECONFIG=$KUBECONFIG_FILE bin/manager \
    --kubeconfig "$KUBECONFIG_FILE" \
    --leader-elect=true \
    --leader-election-namespace "$NAMESPACE" \
    --namespace "$NAMESPACE" \
    --metrics-bind-address "$METRICS_ADDR" \
    --health-probe-bind-address "$PROBE_ADDR" \
    --webhook-host 127.0.0.1 \
    --webhook-port "$WEBHOOK_PORT" \
    --webhook-cert-dir "$STATE_DIR/certs" \
    --webhook-ip-sans 127.0.0.1 \
    >"$MANAGER_LOG" 2>&1 &
  MANAGER_PID=$!
  log "manager started (pid $MANAGER_PID), log: $MANAGER_LOG"
}

wait_manager_ready() {
  local deadline=$((SECONDS + 120))
  until curl -fs -o /dev/null "http://$PROBE_ADDR/readyz"; do
    if ! kill -0 "$MANAGER_PID" 2>/dev/null; then
      tail -n 40 "$MANAGER_LOG" >&2
      fail "the manager exited before it was ready"
    fi
    ((SECONDS < deadline)) || { tail -n 40 "$MANAGER_LOG" >&2; fail "the manager is not ready after 120s"; }
    sleep 0.5
  done
  log "manager is ready"
}

# wait_ca_bundles waits until the manager has patched its CA into every webhook
# configuration; before that the API server cannot call the webhooks.
wait_ca_bundles() {
  local deadline=$((SECONDS + 60)) kind missing
  for kind in mutatingwebhookconfiguration validatingwebhookconfiguration; do
    while :; do
      # One "name|caBundle" line per webhook; "|" is in neither a name nor base64.
      missing=$(kubectl_local get "$kind" -o jsonpath='{range .items[*].webhooks[*]}{.name}|{.clientConfig.caBundle}{"\n"}{end}' |
        sed -n 's/|$//p')
      [[ -z "$missing" ]] && break
      ((SECONDS < deadline)) || fail "the manager did not set caBundle on:" $missing
      sleep 0.5
    done
  done
}

SAMPLES_FILE=$STATE_DIR/samples.yaml
apply_samples() {
  if [[ -f config/samples/kustomization.yaml ]]; then
    "$KUSTOMIZE" build config/samples >"$SAMPLES_FILE"
  elif compgen -G 'config/samples/*.yaml' >/dev/null; then
    cat config/samples/*.yaml >"$SAMPLES_FILE"
  else
    log "config/samples is empty: nothing to apply"
    return 1
  fi
  # Webhooks may answer "connection refused" for a moment after /readyz while
  # the manager finishes starting; retry instead of failing the whole run.
  local attempt
  for attempt in 1 2 3 4 5; do
    if kubectl_local apply -f "$SAMPLES_FILE"; then
      log "applied config/samples"
      return 0
    fi
    sleep 2
  done
  fail "config/samples could not be applied"
}

# verify_samples is what RUN_LOCAL_EXIT_AFTER_APPLY checks: every Mesh, Canary
# and Policy of the samples is listed by kubectl, and every Deployment's pods
# become Ready on the fake node.
verify_samples() {
  local listed kind ns name
  listed=$(kubectl_local get meshes,canaries,policies -A --no-headers \
    -o custom-columns=KIND:.kind,NS:.metadata.namespace,NAME:.metadata.name | sed 's/<none>/-/')
  while read -r kind ns name; do
    case "$kind" in
      Mesh | Canary | Policy)
        grep -Eq "^$kind +$ns +$name\$" <<<"$listed" ||
          fail "kubectl get meshes,canaries,policies -A does not list $kind $ns/$name"
        if [[ "$kind" == Canary ]]; then
          # Bootstrap: the primary copy is Ready and all traffic goes to it.
          kubectl_local wait --for=jsonpath='{.status.phase}'=Initialized "canary/$name" -n "$ns" --timeout=120s >/dev/null ||
            fail "Canary $ns/$name did not reach phase Initialized"
          kubectl_local rollout status "deployment/$name-primary" -n "$ns" --timeout=60s >/dev/null ||
            fail "Deployment $ns/$name-primary of Canary $ns/$name is not Ready"
          log "Canary $ns/$name is Initialized and $name-primary is Ready"
        fi
        ;;
      Deployment)
        kubectl_local rollout status "deployment/$name" -n "$ns" --timeout=120s >/dev/null ||
          fail "Deployment $ns/$name did not become Ready"
        log "Deployment $ns/$name is Ready"
        ;;
    esac
  done < <(kubectl_local get -f "$SAMPLES_FILE" --no-headers \
    -o custom-columns=KIND:.kind,NS:.metadata.namespace,NAME:.metadata.name | sed 's/<none>/-/')
  log "kubectl get meshes,canaries,policies -A:"
  kubectl_local get meshes,canaries,policies -A >&2
}

# verify_webhooks checks that every webhook is registered by URL on the local
# manager and through no Service. The samples were admitted, so with
# failurePolicy Fail the API server did reach them there.
verify_webhooks() {
  local kind name url service
  for kind in mutatingwebhookconfiguration validatingwebhookconfiguration; do
    while IFS='|' read -r name url service; do
      [[ -z "$name" ]] && continue
      [[ -z "$service" && "$url" == "https://127.0.0.1:$WEBHOOK_PORT/"* ]] ||
        fail "webhook $name is not registered by URL on 127.0.0.1:$WEBHOOK_PORT (url '$url', service '$service')"
    done < <(kubectl_local get "$kind" \
      -o jsonpath='{range .items[*].webhooks[*]}{.name}|{.clientConfig.url}|{.clientConfig.service.name}{"\n"}{end}')
  done
  log "every webhook is registered on https://127.0.0.1:$WEBHOOK_PORT"
}

main() {
  local start=$SECONDS
  mkdir -p "$STATE_DIR"
  for addr in "127.0.0.1:$WEBHOOK_PORT" "$METRICS_ADDR" "$PROBE_ADDR"; do
    port_in_use "$addr" && fail "$addr is in use (another run-local?)"
  done
  # Checked here, before the teardown trap owns the cluster: a cluster of
  # another run must not be deleted by this one failing.
  if "${CLUSTER[@]}" exists; then
    fail "the local cluster already exists (another run-local?); remove it with: hack/local-cluster.sh down"
  fi
  build

  CLUSTER_STARTED=1
  "${CLUSTER[@]}" up
  KUBECONFIG_FILE=$("${CLUSTER[@]}" kubeconfig)
  kubectl_local create namespace "$NAMESPACE" >/dev/null

  install_crds
  local webhooks=1
  install_webhooks || webhooks=
  start_manager
  wait_manager_ready
  if [[ -n "$webhooks" ]]; then wait_ca_bundles; fi
  local have_samples=1
  apply_samples || have_samples=
  log "up in $((SECONDS - start))s"

  if [[ "$EXIT_AFTER_APPLY" == 1 ]]; then
    if [[ -n "$webhooks" ]]; then verify_webhooks; fi
    if [[ -n "$have_samples" ]]; then verify_samples; fi
    log "checks passed; tearing down"
    return 0
  fi

  cat >&2 <<EOF

Sluice is running on a local kwok cluster. In another shell:

  export KUBECONFIG=$KUBECONFIG_FILE
  kubectl get meshes,canaries,policies -A

(Any kubectl works; one of the cluster's version is $KUBECTL.)

Manager log: $MANAGER_LOG
Press Ctrl-C to stop the manager and delete the cluster.
EOF
  wait "$MANAGER_PID" || fail "the manager exited; see $MANAGER_LOG"
  fail "the manager exited; see $MANAGER_LOG"
}

main
