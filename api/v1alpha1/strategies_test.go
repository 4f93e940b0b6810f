package v1alpha1_test

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

// TestCanary_AcceptsEachStrategyItsProviderSupports guards the other side of
// the rejection table: the rules must not refuse what Flagger users write.
func TestCanary_AcceptsEachStrategyItsProviderSupports(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	valid := []struct{ name, patch string }{
		{"canary with stepWeights", `{spec: {analysis: {stepWeight: null, maxWeight: null, stepWeights: [1, 5, 10, 25, 50]}}}`},
		{"canary with stepWeights below maxWeight", `{spec: {analysis: {stepWeight: null, maxWeight: 60, stepWeights: [10, 30, 60]}}}`},
		{"A/B testing with header and query matches", `{spec: {analysis: {stepWeight: null, maxWeight: null, iterations: 10,
			match: [{headers: [{name: x-canary, value: insider}]}, {queryParams: [{name: canary, type: RegularExpression, value: "^(yes|true)$"}]}]}}}`},
		{"blue/green with the kubernetes provider", `{spec: {provider: kubernetes, analysis: {stepWeight: null, maxWeight: null, iterations: 3}}}`},
		{"blue/green with mirroring on istio", `{spec: {provider: istio, analysis: {stepWeight: null, maxWeight: null, iterations: 3, mirror: true, mirrorWeight: 50}}}`},
		{"weights on smi", `{spec: {provider: smi}}`},
		{"north-south on gatewayapi", `{spec: {provider: gatewayapi, service: {gatewayRefs: [{name: public, namespace: gateways}], hosts: [app.example.com]}}}`},
		{"promotion in steps", `{spec: {analysis: {stepWeightPromotion: 25}}}`},
		{"decimal threshold and a minimum request count", `{spec: {analysis: {metrics: [{name: request-success-rate, interval: 2m, minRequests: 100, thresholdRange: {min: "99.5", max: 100}}]}}}`},
		{"template metric", `{spec: {analysis: {metrics: [{name: errors, templateRef: {name: error-count}, minRequests: 10, thresholdRange: {max: 5}}]}}}`},
		{"query metric with user variables", `{spec: {analysis: {metrics: [{name: route-errors, thresholdRange: {max: 1},
			query: "sum(rate(x{namespace=\"{{ namespace }}\",route=\"{{route}}\"}[{{ interval }}]))", variables: {route: /api},
			minRequests: 20, requestCountQuery: "sum(increase(y{namespace=\"{{ namespace }}\"}[{{ interval }}]))"}]}}}`},
		{"confirm-promotion gate with a gate timeout", `{spec: {analysis: {webhooks: [{name: approve, type: confirm-promotion, url: "https://gate.test/approve", gateTimeout: 2h, metadata: {team: web}}]}}}`},
		{"metrics server with auth and CA", `{spec: {analysis: {metricsServer: {address: "https://prometheus.monitoring:9090", authSecretRef: {name: prom-auth}, caSecretRef: {name: prom-ca}}}}}`},
		{"service with route settings and metadata", `{spec: {service: {portName: web, targetPort: http, appProtocol: kubernetes.io/h2c, timeout: 30s,
			retries: {attempts: 0}, headers: {request: {set: [{name: x-env, value: canary}]}, response: {remove: [server]}},
			apex: {labels: {team: web}}, primary: {annotations: {note: stable}}}}}`},
		{"autoscaler with primary bounds", `{spec: {autoscalerRef: {name: app, primaryScalerReplicas: {minReplicas: 2, maxReplicas: 10}}}}`},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			obj := patched(t, validCanary, tc.patch)
			obj.SetNamespace(ns)
			obj.SetName(strings.ToLower(strings.NewReplacer(" ", "-", "/", "-").Replace(tc.name)))
			if err := env.Client.Create(context.Background(), obj); err != nil {
				t.Fatalf("rejected: %v", err)
			}
		})
	}
}

// TestCanary_TargetRefCannotBeChanged: pointing an existing Canary at another
// workload would orphan the primary and Services of the first one.
func TestCanary_TargetRefCannotBeChanged(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	obj := patched(t, validCanary, `{}`)
	obj.SetNamespace(ns)
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	obj.Object["spec"].(map[string]any)["targetRef"] = map[string]any{"name": "other"}
	err := env.Client.Update(context.Background(), obj)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.targetRef") {
		t.Fatalf("want the update rejected naming spec.targetRef, got: %v", err)
	}

	obj = patched(t, validCanary, `{}`)
	obj.SetNamespace(ns)
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatal(err)
	}
	obj.Object["spec"].(map[string]any)["analysis"].(map[string]any)["stepWeight"] = int64(20)
	if err := env.Client.Update(context.Background(), obj); err != nil {
		t.Fatalf("an update that keeps the target must pass: %v", err)
	}
}
