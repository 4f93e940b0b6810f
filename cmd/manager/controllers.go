package main

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/sluicemesh/sluice/controllers/canary"
	"github.com/sluicemesh/sluice/controllers/policy"
)

// setupControllers registers the reconcilers. The Mesh reconciler arrives with
// its issue.
func setupControllers(mgr ctrl.Manager, o options) error {
	if err := (&canary.Reconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder("sluice-canary"),
		Options: canary.Options{
			SelectorLabels:        o.selectorLabels,
			MaxConcurrentCanaries: o.maxConcurrentCanaries,
			MetricsServer:         o.metricsServer,
			Workers:               o.canaryWorkers,
		},
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up the Canary reconciler: %w", err)
	}
	if err := (&policy.Reconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("sluice-policy"),
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up the Policy reconciler: %w", err)
	}
	return nil
}
