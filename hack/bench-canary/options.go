package main

import "time"

// options are the command-line settings of one bench run.
type options struct {
	n       int
	timeout time.Duration
	idle    time.Duration
	// controllerManagerQPS raises the cluster's kube-controller-manager
	// --kube-api-qps (burst twice that); 0 keeps Kubernetes' default (20).
	controllerManagerQPS int
	// profile, when set, is where the manager's CPU profile of the first
	// minute of the rollouts is written.
	profile string
}
