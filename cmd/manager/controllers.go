package main

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/sluicemesh/sluice/controllers/policy"
)

// setupControllers registers the reconcilers. The Canary and Mesh reconcilers
// arrive with their issues.
func setupControllers(mgr ctrl.Manager, _ options) error {
	if err := (&policy.Reconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("sluice-policy"),
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up the Policy reconciler: %w", err)
	}
	return nil
}
