package v1alpha1_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	neturl "net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/test/kubeapi"
)

// TestPrinterColumns_ShowWhatTheStatusSays asks the API server for the table
// `kubectl get` prints, after writing a status as the controllers will, so a
// wrong JSONPath in a printer column (which the API server accepts silently)
// fails here.
func TestPrinterColumns_ShowWhatTheStatusSays(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	ctx := context.Background()
	lastTransition := metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second))

	canary := patched(t, validCanary, `{}`)
	canary.SetNamespace(ns)
	if err := env.Client.Create(ctx, canary); err != nil {
		t.Fatal(err)
	}
	var c meshv1alpha1.Canary
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(canary), &c); err != nil {
		t.Fatal(err)
	}
	c.Status = meshv1alpha1.CanaryStatus{
		Phase: meshv1alpha1.CanaryPhaseProgressing, CanaryWeight: 20, FailedChecks: 1,
		LastTransitionTime: &lastTransition,
		Metrics: []meshv1alpha1.MetricStatus{{
			Name: "request-success-rate", Value: "98.7", Result: meshv1alpha1.MetricFailed,
			ThresholdRange: &c.Spec.Analysis.Metrics[0].ThresholdRange, LastCheckTime: &lastTransition,
		}},
		Prometheus: &meshv1alpha1.PrometheusStatus{Address: "http://127.0.0.1:9090", Source: meshv1alpha1.MetricsServerFromManagerFlag},
	}
	if err := env.Client.Status().Update(ctx, &c); err != nil {
		t.Fatalf("write Canary status: %v", err)
	}
	assertRow(t, fmt.Sprintf("/apis/mesh.sluice.dev/v1alpha1/namespaces/%s/canaries/%s", ns, c.Name),
		map[string]any{"Status": "Progressing", "Weight": float64(20), "FailedChecks": float64(1),
			"LastTransition": "60m"})

	policy := patched(t, validPolicy, `{}`)
	policy.SetNamespace(ns)
	if err := env.Client.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	var p meshv1alpha1.Policy
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(policy), &p); err != nil {
		t.Fatal(err)
	}
	p.Status = meshv1alpha1.PolicyStatus{
		AppliedProxies: 3, Proxies: []string{ns + "/app-1", ns + "/app-2", ns + "/app-3"},
		Conditions: []metav1.Condition{{Type: meshv1alpha1.ConditionAccepted, Status: metav1.ConditionFalse,
			Reason: meshv1alpha1.ReasonConflicted, Message: "Policy older already targets Service app", LastTransitionTime: lastTransition}},
	}
	if err := env.Client.Status().Update(ctx, &p); err != nil {
		t.Fatalf("write Policy status: %v", err)
	}
	assertRow(t, fmt.Sprintf("/apis/mesh.sluice.dev/v1alpha1/namespaces/%s/policies/%s", ns, p.Name),
		map[string]any{"Target": "app", "Accepted": "False", "Proxies": float64(3)})

	mesh := &meshv1alpha1.Mesh{ObjectMeta: metav1.ObjectMeta{Name: meshv1alpha1.MeshName}}
	if err := env.Client.Create(ctx, mesh); err != nil {
		t.Fatal(err)
	}
	deleteAtCleanup(t, mesh)
	mesh.Status = meshv1alpha1.MeshStatus{
		InstalledVersion: "v0.1.0",
		Proxies:          []meshv1alpha1.ProxyVersionCount{{Version: "v0.1.0", Count: 12}},
		IssuerExpiry:     &lastTransition,
		Conditions: []metav1.Condition{{Type: meshv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: meshv1alpha1.ReasonSucceeded, LastTransitionTime: lastTransition}},
	}
	if err := env.Client.Status().Update(ctx, mesh); err != nil {
		t.Fatalf("write Mesh status: %v", err)
	}
	assertRow(t, "/apis/mesh.sluice.dev/v1alpha1/meshes/default",
		map[string]any{"Version": "v0.1.0", "mTLS": "PERMISSIVE", "Ready": "True"})
}

// assertRow GETs path as a server-side Table (what kubectl prints) and checks
// the named cells of its one row.
func assertRow(t *testing.T, path string, want map[string]any) {
	t.Helper()
	httpClient, err := rest.HTTPClientFor(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	url, err := neturl.JoinPath(env.Config.Host, path)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s as Table: %s", req.URL, resp.Status)
	}
	var table metav1.Table
	if err := json.NewDecoder(resp.Body).Decode(&table); err != nil {
		t.Fatal(err)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("GET %s as Table: %d rows, want 1", path, len(table.Rows))
	}
	got := map[string]any{}
	for i, col := range table.ColumnDefinitions {
		if _, wanted := want[col.Name]; wanted {
			got[col.Name] = table.Rows[0].Cells[i]
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: printed columns differ (-want +got):\n%s", path, diff)
	}
}
