// Package localcluster holds the smoke tests of the local kwok cluster
// (hack/local-cluster.sh) and of the main job built on it (hack/run-local.sh):
// they run the scripts as a user would and check what the user would notice,
// plus the network rules of ARCHITECTURE.md (benchmark ranges, loopback only,
// nothing left running).
package localcluster
