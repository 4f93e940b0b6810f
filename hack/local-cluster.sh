#!/usr/bin/env bash
# The local kwok cluster: kwokctl's binary runtime running the Kubernetes
# binaries that hack/k8s-binaries.sh built from Go modules (nothing is
# downloaded), every component bound to 127.0.0.1, and one fake node that kwok
# runs pods on. Pod IPs and ClusterIPs come from 198.18.0.0/15, a range reserved
# for benchmarking: nothing ever sends a packet to them (see ARCHITECTURE.md,
# "Local cluster and its network").
#
# Usage: hack/local-cluster.sh up|down|kubeconfig|exists
#   up          create the cluster (fails if it already exists) and its fake node
#   down        delete the cluster and stop all of its processes (no-op if absent)
#   kubeconfig  print the path of the cluster's kubeconfig
#   exists      exit 0 if the cluster exists, 1 if not
#
# Environment:
#   K8S_VERSION           Kubernetes version of the binaries (default v1.36.3)
#   SLUICE_CLUSTER_NAME   kwok cluster name (default sluice)
#   KWOK_WORKDIR          kwok's state, outside the clone (default ~/.cache/sluice/kwok)
#   KUBECTL               kubectl to create the fake node with (default: the one built with the cluster)
#   KWOK_EXTRA_ARGS       more component flags, space-separated, as kwokctl's --extra-args takes them
#                         (e.g. "kube-controller-manager=kube-api-qps=100"); default none
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLUSTER_NAME=${SLUICE_CLUSTER_NAME:-sluice}
CACHE_ROOT=${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}
export KWOK_WORKDIR=${KWOK_WORKDIR:-$CACHE_ROOT/kwok}
BIN_DIR=$("$ROOT/hack/k8s-binaries.sh" print-dir)
KWOKCTL="$BIN_DIR/kwokctl"
KUBECTL=${KUBECTL:-$BIN_DIR/kubectl}
KUBECONFIG_FILE="$KWOK_WORKDIR/$CLUSTER_NAME.kubeconfig"
KWOKCTL_LOG="$KWOK_WORKDIR/$CLUSTER_NAME-kwokctl.log"
NODE_NAME=kwok-node-0

# The ranges of ARCHITECTURE.md: pods in 198.18.0.0/16, Services in 198.19.0.0/16.
POD_CIDR=198.18.0.0/16
SERVICE_CIDR=198.19.0.0/16

log() { printf '[local-cluster] %s\n' "$*" >&2; }

cluster_exists() {
  [[ -x "$KWOKCTL" ]] && "$KWOKCTL" get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"
}

require_binaries() {
  local missing=()
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok kwokctl; do
    [[ -x "$BIN_DIR/$b" ]] || missing+=("$b")
  done
  if ((${#missing[@]})); then
    log "missing in $BIN_DIR: ${missing[*]}; build them with: make cluster-binaries"
    exit 1
  fi
  command -v "$KUBECTL" >/dev/null || { log "kubectl not found (set KUBECTL)"; exit 1; }
}

# kwokctl_config writes the options kwokctl has no flag for. bindAddress: kwok
# binds every component to 0.0.0.0 unless told otherwise.
kwokctl_config() {
  local file="$KWOK_WORKDIR/$CLUSTER_NAME-kwokctl.yaml"
  mkdir -p "$KWOK_WORKDIR"
  cat >"$file" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  bindAddress: 127.0.0.1
  kubeVersion: ${K8S_VERSION:-v1.36.3}
EOF
  echo "$file"
}

up() {
  require_binaries
  if cluster_exists; then
    log "cluster $CLUSTER_NAME already exists (another run?); remove it with: $0 down"
    exit 1
  fi
  local start=$SECONDS config extra=() arg
  config=$(kwokctl_config)
  for arg in ${KWOK_EXTRA_ARGS:-}; do
    extra+=(--extra-args "$arg")
  done
  log "creating cluster $CLUSTER_NAME (kwokctl log: $KWOKCTL_LOG)"
  # kwokctl picks its components' ports by probing downward from 32767, so
  # two clusters created at the same moment (the e2e and local-cluster suites
  # run in parallel) take the same ports and break each other. Creations take
  # turns, machine-wide; a cluster holds its ports once --wait returns. The
  # lock stays out of kwokctl, whose components would otherwise hold it.
  local lock
  exec {lock}>"${TMPDIR:-/tmp}/sluice-kwokctl-create.lock"
  flock "$lock"
  # --kubeconfig '' keeps kwokctl away from ~/.kube/config: the cluster's
  # kubeconfig is written to its own file below.
  if ! "$KWOKCTL" --config "$config" create cluster \
    --name "$CLUSTER_NAME" \
    --runtime binary \
    --kubeconfig '' \
    --etcd-binary "$BIN_DIR/etcd" \
    --kube-apiserver-binary "$BIN_DIR/kube-apiserver" \
    --kube-controller-manager-binary "$BIN_DIR/kube-controller-manager" \
    --kube-scheduler-binary "$BIN_DIR/kube-scheduler" \
    --kwok-controller-binary "$BIN_DIR/kwok" \
    --extra-args "kwok-controller=cidr=$POD_CIDR" \
    --extra-args "kube-apiserver=service-cluster-ip-range=$SERVICE_CIDR" \
    --extra-args "kube-controller-manager=service-cluster-ip-range=$SERVICE_CIDR" \
    "${extra[@]}" \
    --wait 2m >"$KWOKCTL_LOG" 2>&1 {lock}>&-; then
    tail -n 20 "$KWOKCTL_LOG" >&2
    log "kwokctl create cluster failed; clean up with: $0 down"
    exit 1
  fi
  exec {lock}>&-
  "$KWOKCTL" get kubeconfig --name "$CLUSTER_NAME" >"$KUBECONFIG_FILE"
  chmod 600 "$KUBECONFIG_FILE"
  add_fake_node
  log "cluster $CLUSTER_NAME is up in $((SECONDS - start))s; export KUBECONFIG=$KUBECONFIG_FILE"
}

# add_fake_node creates the node kwok runs pods on. It carries no podCIDR and no
# address on purpose: kwok then takes pod IPs from its --cidr (198.18.0.0/16),
# and the API server reaches the fake kubelet (logs, exec) by the Hostname
# address kwok fills in, localhost.
add_fake_node() {
  "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $NODE_NAME
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $NODE_NAME
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
EOF
  "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" wait --for=condition=Ready "node/$NODE_NAME" --timeout=60s >/dev/null
}

down() {
  if cluster_exists; then
    # kwokctl removes its context from the kubeconfig given, so give it ours
    # (an empty value is an error here), never ~/.kube/config.
    "$KWOKCTL" delete cluster --name "$CLUSTER_NAME" --kubeconfig "$KUBECONFIG_FILE" >>"$KWOKCTL_LOG" 2>&1 ||
      { tail -n 20 "$KWOKCTL_LOG" >&2; log "kwokctl delete cluster failed"; exit 1; }
    log "cluster $CLUSTER_NAME deleted"
  fi
  rm -f "$KUBECONFIG_FILE" "$KWOK_WORKDIR/$CLUSTER_NAME-kwokctl.yaml" "$KWOKCTL_LOG"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  kubeconfig) echo "$KUBECONFIG_FILE" ;;
  exists) cluster_exists ;;
  *) echo "usage: $0 up|down|kubeconfig|exists" >&2; exit 2 ;;
esac
