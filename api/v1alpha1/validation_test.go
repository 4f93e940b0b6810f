package v1alpha1_test

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

// invalidCase is an object the API server must reject: a valid base with one
// change, the field path the rejection must name, and a phrase of the
// expected message (so the case cannot pass on an unrelated error).
type invalidCase struct {
	name  string
	base  string
	patch string
	field string
	says  string
}

var invalidObjects = []invalidCase{
	// Canary: weights.
	{"stepWeight with stepWeights", validCanary,
		`{spec: {analysis: {stepWeights: [10, 20]}}}`, "spec.analysis.stepWeights", "cannot be combined"},
	{"maxWeight below 1", validCanary,
		`{spec: {analysis: {maxWeight: 0}}}`, "spec.analysis.maxWeight", "greater than or equal to 1"},
	{"maxWeight above 100", validCanary,
		`{spec: {analysis: {maxWeight: 101}}}`, "spec.analysis.maxWeight", "less than or equal to 100"},
	{"stepWeight above 100", validCanary,
		`{spec: {analysis: {stepWeight: 120, maxWeight: null}}}`, "spec.analysis.stepWeight", "less than or equal to 100"},
	{"stepWeight above maxWeight", validCanary,
		`{spec: {analysis: {stepWeight: 60}}}`, "spec.analysis.stepWeight", "must not exceed spec.analysis.maxWeight"},
	{"a step outside 1..100", validCanary,
		`{spec: {analysis: {stepWeight: null, maxWeight: null, stepWeights: [10, 150]}}}`, "spec.analysis.stepWeights[1]", "less than or equal to 100"},
	{"stepWeights decreasing", validCanary,
		`{spec: {analysis: {stepWeight: null, maxWeight: null, stepWeights: [10, 5, 20]}}}`, "spec.analysis.stepWeights", "strictly increasing"},
	{"stepWeights repeating a step", validCanary,
		`{spec: {analysis: {stepWeight: null, maxWeight: null, stepWeights: [10, 10, 20]}}}`, "spec.analysis.stepWeights", "strictly increasing"},
	{"stepWeights above maxWeight", validCanary,
		`{spec: {analysis: {stepWeight: null, stepWeights: [10, 60]}}}`, "spec.analysis.stepWeights", "at most spec.analysis.maxWeight"},
	{"no strategy", validCanary,
		`{spec: {analysis: {stepWeight: null, maxWeight: null}}}`, "spec.analysis", "set stepWeight or stepWeights"},
	{"iterations with stepWeight", validCanary,
		`{spec: {analysis: {iterations: 5}}}`, "spec.analysis.iterations", "cannot be combined"},
	{"match without iterations", validCanary,
		`{spec: {analysis: {match: [{headers: [{name: x-canary, value: "yes"}]}]}}}`, "spec.analysis.match", "needs spec.analysis.iterations"},
	{"mirrorWeight without mirror", validCanary,
		`{spec: {analysis: {mirrorWeight: 20}}}`, "spec.analysis.mirrorWeight", "needs spec.analysis.mirror"},
	{"interval that does not parse", validCanary,
		`{spec: {analysis: {interval: ten-seconds}}}`, "spec.analysis.interval", "should match"},
	{"interval below 10s", validCanary,
		`{spec: {analysis: {interval: 5s}}}`, "spec.analysis.interval", "at least 10s"},
	{"threshold below 1", validCanary,
		`{spec: {analysis: {threshold: -1}}}`, "spec.analysis.threshold", "greater than or equal to 1"},

	// Canary: metrics.
	{"thresholdRange with min above max", validCanary,
		`{spec: {analysis: {metrics: [{name: request-success-rate, thresholdRange: {min: "99.5", max: 99}}]}}}`,
		"spec.analysis.metrics[0].thresholdRange", "min must not be greater than max"},
	{"thresholdRange without bounds", validCanary,
		`{spec: {analysis: {metrics: [{name: request-success-rate, thresholdRange: {}}]}}}`,
		"spec.analysis.metrics[0].thresholdRange", "set min, max or both"},
	{"metric with no query source", validCanary,
		`{spec: {analysis: {metrics: [{name: error-rate, thresholdRange: {max: 1}}]}}}`,
		"spec.analysis.metrics[0]", "exactly one of a builtin name"},
	{"metric with builtin name and query", validCanary,
		`{spec: {analysis: {metrics: [{name: request-duration, query: "sum(up)", thresholdRange: {max: 1}}]}}}`,
		"spec.analysis.metrics[0]", "exactly one of a builtin name"},
	{"metric with templateRef and query", validCanary,
		`{spec: {analysis: {metrics: [{name: errors, templateRef: {name: errors}, query: "sum(up)", thresholdRange: {max: 1}}]}}}`,
		"spec.analysis.metrics[0]", "exactly one of a builtin name"},
	{"variable replacing a builtin one", validCanary,
		`{spec: {analysis: {metrics: [{name: errors, query: "sum(up)", variables: {namespace: other}, thresholdRange: {max: 1}}]}}}`,
		"spec.analysis.metrics[0].variables", "other than the builtin"},
	{"minRequests on a query without requestCountQuery", validCanary,
		`{spec: {analysis: {metrics: [{name: errors, query: "sum(up)", minRequests: 10, thresholdRange: {max: 1}}]}}}`,
		"spec.analysis.metrics[0].requestCountQuery", "is required with minRequests"},
	{"metric interval that does not parse", validCanary,
		`{spec: {analysis: {metrics: [{name: request-duration, interval: 1 minute, thresholdRange: {max: 500}}]}}}`,
		"spec.analysis.metrics[0].interval", "should match"},
	{"two metrics with one name", validCanary,
		`{spec: {analysis: {metrics: [{name: request-duration, thresholdRange: {max: 500}}, {name: request-duration, thresholdRange: {max: 900}}]}}}`,
		"spec.analysis.metrics[1]", "Duplicate value"},
	{"metrics server address that is not a URL", validCanary,
		`{spec: {analysis: {metricsServer: {address: "prometheus:9090"}}}}`,
		"spec.analysis.metricsServer.address", "absolute http or https URL"},

	// Canary: webhooks.
	{"gateTimeout on a rollout webhook", validCanary,
		`{spec: {analysis: {webhooks: [{name: load-test, url: "http://lt.test/", gateTimeout: 1h}]}}}`,
		"spec.analysis.webhooks[0].gateTimeout", "only applies to confirm-"},
	{"unknown webhook type", validCanary,
		`{spec: {analysis: {webhooks: [{name: load-test, type: pre-promotion, url: "http://lt.test/"}]}}}`,
		"spec.analysis.webhooks[0].type", "Unsupported value"},
	{"webhook url without scheme", validCanary,
		`{spec: {analysis: {webhooks: [{name: load-test, url: "lt.test/run"}]}}}`,
		"spec.analysis.webhooks[0].url", "absolute http or https URL"},

	// Canary: providers.
	{"kubernetes provider with weights", validCanary,
		`{spec: {provider: kubernetes}}`, "spec.analysis", "blue/green only"},
	{"smi provider with match", validCanary,
		`{spec: {provider: smi, analysis: {stepWeight: null, maxWeight: null, iterations: 5, match: [{headers: [{name: x-canary, value: "yes"}]}]}}}`,
		"spec.analysis.match", "needs provider sluice, gatewayapi, istio or linkerd"},
	{"kubernetes provider with match", validCanary,
		`{spec: {provider: kubernetes, analysis: {stepWeight: null, maxWeight: null, iterations: 5, match: [{headers: [{name: x-canary, value: "yes"}]}]}}}`,
		"spec.analysis.match", "needs provider sluice, gatewayapi, istio or linkerd"},
	{"kubernetes provider with mirror", validCanary,
		`{spec: {provider: kubernetes, analysis: {stepWeight: null, maxWeight: null, iterations: 5, mirror: true}}}`,
		"spec.analysis.mirror", "needs provider sluice, gatewayapi or istio"},
	{"smi provider with mirror", validCanary,
		`{spec: {provider: smi, analysis: {mirror: true}}}`, "spec.analysis.mirror", "needs provider sluice, gatewayapi or istio"},
	{"linkerd provider with mirror", validCanary,
		`{spec: {provider: linkerd, analysis: {mirror: true}}}`, "spec.analysis.mirror", "needs provider sluice, gatewayapi or istio"},
	{"gatewayapi provider without gatewayRefs", validCanary,
		`{spec: {provider: gatewayapi}}`, "spec.service.gatewayRefs", "at least one Gateway"},
	{"unknown provider", validCanary,
		`{spec: {provider: nginx}}`, "spec.provider", "Unsupported value"},

	// Canary: target and service.
	{"target of an unsupported kind", validCanary,
		`{spec: {targetRef: {kind: StatefulSet}}}`, "spec.targetRef.kind", "Unsupported value"},
	{"target name too long for the -primary Service", validCanary,
		`{spec: {targetRef: {name: a-name-that-is-far-too-long-for-a-service-called-name-primary}}}`,
		"spec.targetRef.name", "may not be more than 55"},
	{"service port 0", validCanary,
		`{spec: {service: {port: 0}}}`, "spec.service.port", "greater than or equal to 1"},
	{"service timeout that does not parse", validCanary,
		`{spec: {service: {timeout: soon}}}`, "spec.service.timeout", "should match"},

	// Mesh.
	{"mesh not named default", validMesh,
		`{metadata: {name: production}}`, "metadata.name", "must be named default"},
	{"unknown mTLS mode", validMesh,
		`{spec: {mtls: {mode: DISABLED}}}`, "spec.mtls.mode", "Unsupported value"},
	{"trust anchor both from a Secret and self-signed", validMesh,
		`{spec: {mtls: {trustAnchor: {secretRef: {name: anchor, namespace: sluice-system}, selfSigned: {}}}}}`,
		"spec.mtls.trustAnchor", "exactly one of secretRef or selfSigned"},
	{"certificate lifetime below 1h", validMesh,
		`{spec: {mtls: {certificateLifetime: 30m}}}`, "spec.mtls.certificateLifetime", "at least 1h"},
	{"certificate outliving its issuer", validMesh,
		`{spec: {mtls: {certificateLifetime: 48h, issuerLifetime: 24h}}}`, "spec.mtls.certificateLifetime", "shorter than spec.mtls.issuerLifetime"},
	{"issuer outliving its self-signed trust anchor", validMesh,
		`{spec: {mtls: {issuerLifetime: 9000h}}}`, "spec.mtls.issuerLifetime", "shorter than spec.mtls.trustAnchor.selfSigned.lifetime"},
	{"control plane without replicas", validMesh,
		`{spec: {controlPlane: {replicas: -1}}}`, "spec.controlPlane.replicas", "greater than or equal to 1"},
	{"rolling settings on a manual upgrade", validMesh,
		`{spec: {upgrade: {type: Manual, rolling: {batchPercent: 10}}}}`, "spec.upgrade.rolling", "only applies to type Rolling"},
	{"metrics server address that is not a URL", validMesh,
		`{spec: {metrics: {server: {address: "not a url"}}}}`, "spec.metrics.server.address", "absolute http or https URL"},
	{"two metric templates with one name", validMesh,
		`{spec: {metrics: {templates: [{name: errors, query: "sum(a)"}, {name: errors, query: "sum(b)"}]}}}`,
		"spec.metrics.templates[1]", "Duplicate value"},

	// Policy.
	{"policy targeting a Deployment", validPolicy,
		`{spec: {targetRef: {kind: Deployment}}}`, "spec.targetRef.kind", "Unsupported value"},
	{"policy that sets nothing", validPolicy,
		`{spec: {timeout: null}}`, "spec", "set at least one of"},
	{"fault percent above 100", validPolicy,
		`{spec: {fault: {abort: {status: 503, percent: 101}}}}`, "spec.fault.abort.percent", "less than or equal to 100"},
	{"fault without delay or abort", validPolicy,
		`{spec: {fault: {headers: [{name: x-chaos, value: "on"}]}}}`, "spec.fault", "set delay, abort or both"},
	{"fault delay that does not parse", validPolicy,
		`{spec: {fault: {delay: {duration: "half a second", percent: 10}}}}`, "spec.fault.delay.duration", "should match"},
	{"fault abort with a success status", validPolicy,
		`{spec: {fault: {abort: {status: 200, percent: 10}}}}`, "spec.fault.abort.status", "greater than or equal to 400"},
	{"retry budget above 100 percent", validPolicy,
		`{spec: {retries: {budgetPercent: 150}}}`, "spec.retries.budgetPercent", "less than or equal to 100"},
	{"too many retry attempts", validPolicy,
		`{spec: {retries: {attempts: 11}}}`, "spec.retries.attempts", "less than or equal to 10"},
	{"max ejection percent above 100", validPolicy,
		`{spec: {circuitBreaker: {maxEjectionPercent: 101}}}`, "spec.circuitBreaker.maxEjectionPercent", "less than or equal to 100"},
	{"rate limit of 0 requests per second", validPolicy,
		`{spec: {rateLimit: {requestsPerSecond: 0}}}`, "spec.rateLimit.requestsPerSecond", "greater than or equal to 1"},
	{"authorization default neither allow nor deny", validPolicy,
		`{spec: {authorization: {default: Maybe}}}`, "spec.authorization.default", "Unsupported value"},
	{"caller identity that is not a SPIFFE URI", validPolicy,
		`{spec: {authorization: {rules: [{identities: ["frontend"]}]}}}`, "spec.authorization.rules[0].identities[0]", "should match"},
	{"unknown inbound mTLS mode", validPolicy,
		`{spec: {mtls: {mode: DISABLED}}}`, "spec.mtls.mode", "Unsupported value"},
}

// TestInvalidObjects_AreRejectedNamingTheField proves that the API server
// itself (schema and CEL rules, no webhook) rejects each invalid object with a
// message that names the offending field.
func TestInvalidObjects_AreRejectedNamingTheField(t *testing.T) {
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	for _, base := range []string{validCanary, validMesh, validPolicy} {
		obj := patched(t, base, `{}`)
		if obj.GetKind() != "Mesh" {
			obj.SetNamespace(ns)
		}
		if err := env.Client.Create(context.Background(), obj, client.DryRunAll); err != nil {
			t.Fatalf("the valid base %s is rejected, so the table below proves nothing: %v", obj.GetKind(), err)
		}
	}
	for _, tc := range invalidObjects {
		t.Run(tc.name, func(t *testing.T) {
			obj := patched(t, tc.base, tc.patch)
			if obj.GetKind() != "Mesh" {
				obj.SetNamespace(ns)
			}
			err := env.Client.Create(context.Background(), obj)
			if err == nil {
				deleteAtCleanup(t, obj)
				t.Fatalf("the API server accepted it; want a rejection naming %s", tc.field)
			}
			t.Logf("rejected: %v", err)
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got: %v", err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("the rejection does not name %s: %v", tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("the rejection does not say %q: %v", tc.says, err)
			}
		})
	}
}
