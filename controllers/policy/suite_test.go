package policy

import (
	"context"
	"os"
	"testing"

	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

// env is the envtest API server with the Policy reconciler running against it.
var env *kubeapi.Env

func TestMain(m *testing.M) {
	os.Exit(kubeapi.Main(m, kubeapi.Options{}, func(e *kubeapi.Env) (func(), error) {
		env = e
		mgr, err := ctrl.NewManager(e.Config, ctrl.Options{Scheme: e.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
		if err != nil {
			return nil, err
		}
		r := &Reconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("sluice-policy")}
		if err := r.SetupWithManager(mgr); err != nil {
			return nil, err
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := mgr.Start(ctx); err != nil {
				panic(err)
			}
		}()
		return func() { cancel(); <-done }, nil
	}))
}

func requireEnv(t *testing.T) {
	t.Helper()
	kubeapi.RequireEnv(t, env)
}
