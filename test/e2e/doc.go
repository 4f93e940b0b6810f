// Package e2e holds the end-to-end suites of Sluice on the local kwok cluster
// (hack/local-cluster.sh): a real kube-apiserver, kube-controller-manager and
// kube-scheduler with a fake node, so Deployments, ReplicaSets and pod
// readiness are real. The manager runs as its own process, built from
// cmd/manager and started with the flags hack/run-local.sh uses (webhooks by
// URL on 127.0.0.1), and analyses canaries against a real Prometheus that
// scrapes a loopback endpoint the tests steer.
//
// Nothing here sends a packet off loopback (ARCHITECTURE.md, "Local cluster
// and its network"). Run with `make test-e2e`; under CI=true a missing binary
// fails the suite instead of skipping it.
package e2e
