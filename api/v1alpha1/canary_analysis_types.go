package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// CanaryAnalysis says how a new revision is tested and how traffic moves to
// it. The fields choose the strategy:
//   - canary (weights): stepWeight (with maxWeight) or stepWeights. Each
//     interval whose checks pass moves the canary to the next weight; once the
//     last weight passes, the revision is promoted. With stepWeight the
//     weights are stepWeight, 2*stepWeight, ... up to maxWeight; when
//     stepWeight does not divide maxWeight the last step is maxWeight itself
//     (stepWeight 30, maxWeight 80: 30, 60, 80).
//   - A/B testing: iterations with match. Requests that match go to the
//     canary (100%), the rest to the primary, for `iterations` passing checks.
//   - blue/green: iterations without match. The canary gets no user traffic
//     (only what webhooks send) for `iterations` passing checks, then all
//     traffic switches at once.
//
// Each failed check adds one to status.failedChecks and holds the weight;
// reaching `threshold` failed checks rolls the revision back.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.stepWeight) && has(self.stepWeights))",message="spec.analysis.stepWeights: cannot be combined with spec.analysis.stepWeight; set one of them",fieldPath=".stepWeights",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule="has(self.stepWeight) || has(self.stepWeights) || has(self.iterations)",message="spec.analysis: set stepWeight or stepWeights (canary) or iterations (A/B or blue/green)",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="!has(self.iterations) || !(has(self.stepWeight) || has(self.stepWeights))",message="spec.analysis.iterations: cannot be combined with stepWeight or stepWeights; iterations select A/B testing (with match) or blue/green",fieldPath=".iterations",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule="!has(self.maxWeight) || has(self.stepWeight) || has(self.stepWeights)",message="spec.analysis.maxWeight: only applies with stepWeight or stepWeights",fieldPath=".maxWeight",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule="!has(self.stepWeight) || !has(self.maxWeight) || self.stepWeight <= self.maxWeight",message="spec.analysis.stepWeight: must not exceed spec.analysis.maxWeight",fieldPath=".stepWeight"
// +kubebuilder:validation:XValidation:rule="!has(self.stepWeights) || !has(self.maxWeight) || self.stepWeights.all(w, w <= self.maxWeight)",message="spec.analysis.stepWeights: every step must be at most spec.analysis.maxWeight",fieldPath=".stepWeights"
// +kubebuilder:validation:XValidation:rule="!has(self.match) || has(self.iterations)",message="spec.analysis.match: needs spec.analysis.iterations (A/B testing runs a number of iterations, not weights)",fieldPath=".match",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="!has(self.mirrorWeight) || (has(self.mirror) && self.mirror)",message="spec.analysis.mirrorWeight: needs spec.analysis.mirror: true",fieldPath=".mirrorWeight",reason=FieldValueForbidden
type CanaryAnalysis struct {
	// Interval between two checks (metrics and rollout webhooks), at least 10s,
	// e.g. "1m". Default: 1m.
	// +optional
	// +kubebuilder:default="1m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self) >= duration('10s')",message="spec.analysis.interval: must be at least 10s"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Threshold is the number of failed checks after which the revision is
	// rolled back. Default: 5.
	// +optional
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	Threshold int32 `json:"threshold,omitempty"`

	// MaxWeight is the highest canary weight, in percent, before promotion.
	// Only with stepWeight or stepWeights. Default: 100.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	MaxWeight *int32 `json:"maxWeight,omitempty"`

	// StepWeight is the weight, in percent, added to the canary after each
	// passing check. Not with stepWeights.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	StepWeight *int32 `json:"stepWeight,omitempty"`

	// StepWeights are the canary weights, in percent and strictly increasing,
	// taken one per passing check, e.g. [1, 5, 10, 25, 50]. Not with
	// stepWeight.
	// +optional
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:Minimum=1
	// +kubebuilder:validation:items:Maximum=100
	// +kubebuilder:validation:XValidation:rule="self.isSorted() && self.all(w, self.indexOf(w) == self.lastIndexOf(w))",message="spec.analysis.stepWeights: must be strictly increasing"
	StepWeights []int32 `json:"stepWeights,omitempty"`

	// StepWeightPromotion, when set, moves traffic back to the promoted
	// primary in steps of this many percent, each weight held for one
	// interval (phase Promoting), instead of all at once. Default: all at once.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	StepWeightPromotion *int32 `json:"stepWeightPromotion,omitempty"`

	// Iterations is the number of passing checks of an A/B (with match) or
	// blue/green (without match) run. Not with stepWeight or stepWeights.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	Iterations *int32 `json:"iterations,omitempty"`

	// Match selects the requests that go to the canary during an A/B run. A
	// request matches when it matches any entry; an entry matches when all
	// its conditions hold. Needs iterations.
	// +optional
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	Match []CanaryMatch `json:"match,omitempty"`

	// Mirror copies requests to the canary (answers are discarded) instead of
	// shifting them, during blue/green or canary runs. Needs provider sluice,
	// gatewayapi or istio. Default: false.
	// +optional
	Mirror bool `json:"mirror,omitempty"`

	// MirrorWeight is the percent of requests mirrored. Needs mirror.
	// Default: 100.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	MirrorWeight *int32 `json:"mirrorWeight,omitempty"`

	// PrimaryReadyThreshold is the percent of the primary's pods that must be
	// ready before traffic moves. Default: 100.
	// +optional
	// +kubebuilder:default=100
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	PrimaryReadyThreshold int32 `json:"primaryReadyThreshold,omitempty"`

	// CanaryReadyThreshold is the percent of the canary's pods that must be
	// ready before traffic moves. Default: 100.
	// +optional
	// +kubebuilder:default=100
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	CanaryReadyThreshold int32 `json:"canaryReadyThreshold,omitempty"`

	// ScaleCanaryWithWeight scales the canary's replicas with its weight
	// (the primary's replicas times the weight, never below 1) instead of
	// running a full copy of the primary. Default: false.
	// +optional
	ScaleCanaryWithWeight bool `json:"scaleCanaryWithWeight,omitempty"`

	// Metrics are the checks run each interval; every one must pass.
	// Default: none (only webhooks and readiness decide).
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	Metrics []AnalysisMetric `json:"metrics,omitempty"`

	// Webhooks are gates, hooks and notifications called during the run.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	Webhooks []CanaryWebhook `json:"webhooks,omitempty"`

	// MetricsServer is the Prometheus server the metrics are read from.
	// Default: the Mesh default's spec.metrics.server, else the manager's
	// --metrics-server flag. The address in use is shown in
	// status.prometheus.
	// +optional
	MetricsServer *MetricsServer `json:"metricsServer,omitempty"`
}

// CanaryMatch is one set of request conditions that all must hold (Gateway API
// HTTPRoute match semantics).
// +kubebuilder:validation:XValidation:rule="has(self.headers) || has(self.queryParams)",message="spec.analysis.match[]: set headers or queryParams",reason=FieldValueRequired
type CanaryMatch struct {
	// Headers the request must carry.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	Headers []gatewayv1.HTTPHeaderMatch `json:"headers,omitempty"`

	// QueryParams the request must carry.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	QueryParams []gatewayv1.HTTPQueryParamMatch `json:"queryParams,omitempty"`
}

// Builtin metric names. Their queries depend on the provider (Sluice,
// Istio or Linkerd metrics); see ARCHITECTURE.md for Sluice's.
const (
	// MetricRequestSuccessRate is the percent of non-5xx responses of the
	// canary over the metric interval.
	MetricRequestSuccessRate = "request-success-rate"
	// MetricRequestDuration is the canary's p99 latency in milliseconds over
	// the metric interval.
	MetricRequestDuration = "request-duration"
)

// AnalysisMetric is one Prometheus check. Exactly one of these gives its
// query: a builtin name (request-success-rate or request-duration), a
// templateRef to a named query of the Mesh default, or an inline query.
//
// Queries are templates with the variables {{ namespace }} (the Canary's),
// {{ target }} (the target's name), {{ service }} (the apex Service),
// {{ interval }} (this metric's interval) and those of `variables`. An
// unknown variable is an error. The query must return one number; no data,
// NaN, an error or a timeout fail the check.
//
// +kubebuilder:validation:XValidation:rule="(self.name in ['request-success-rate', 'request-duration'] ? 1 : 0) + (has(self.templateRef) ? 1 : 0) + (has(self.query) ? 1 : 0) == 1",message="spec.analysis.metrics[]: set exactly one of a builtin name (request-success-rate, request-duration), templateRef or query",reason=FieldValueInvalid
// +kubebuilder:validation:XValidation:rule="!has(self.minRequests) || self.name in ['request-success-rate', 'request-duration'] || has(self.requestCountQuery) || has(self.templateRef)",message="spec.analysis.metrics[].requestCountQuery: is required with minRequests for a query metric (builtin metrics count requests themselves)",fieldPath=".requestCountQuery",reason=FieldValueRequired
type AnalysisMetric struct {
	// Name of the check; a builtin name selects a builtin query.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// TemplateRef names a query template of the Mesh default
	// (spec.metrics.templates).
	// +optional
	TemplateRef *MetricTemplateReference `json:"templateRef,omitempty"`

	// Query is an inline PromQL query template.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Query string `json:"query,omitempty"`

	// Interval is the range of the query ({{ interval }}), e.g. "1m".
	// Default: the analysis interval.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Interval *metav1.Duration `json:"interval,omitempty"`

	// ThresholdRange is the range the value must stay in to pass.
	// +required
	ThresholdRange ThresholdRange `json:"thresholdRange"`

	// MinRequests is the request count, over the metric interval, below which
	// the check holds (neither passes nor fails, and status says so), so a
	// quiet canary is not judged on a handful of requests. Builtin metrics
	// count the canary's inbound requests with the provider's request counter
	// (for Sluice: sum(increase(sluice_requests_total{direction="inbound",
	// namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}])));
	// a query metric needs requestCountQuery, a template metric takes the
	// template's unless it sets its own. Default: no minimum.
	// +optional
	// +kubebuilder:validation:Minimum=1
	MinRequests *int64 `json:"minRequests,omitempty"`

	// RequestCountQuery is the PromQL template that counts the requests the
	// check is based on, compared with minRequests. Same variables as query.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	RequestCountQuery string `json:"requestCountQuery,omitempty"`

	// Variables are user variables of the query template, by name, e.g.
	// {"route": "/api"} for {{ route }}. They cannot replace builtin ones.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[a-zA-Z_][a-zA-Z0-9_]*$') && !(k in ['namespace', 'target', 'service', 'interval']))",message="spec.analysis.metrics[].variables: names must be identifiers ([a-zA-Z_][a-zA-Z0-9_]*) other than the builtin namespace, target, service and interval"
	Variables map[string]string `json:"variables,omitempty"`
}

// MetricTemplateReference names a query template of the Mesh default.
type MetricTemplateReference struct {
	// Name of the template in the Mesh default's spec.metrics.templates.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
}

// ThresholdRange bounds a metric value; a bound that is not set is open.
// Bounds are decimal quantities ("99", "99.5", 500) rather than floats, which
// Kubernetes APIs avoid; write decimals as strings in YAML ("99.5").
// +kubebuilder:validation:XValidation:rule="has(self.min) || has(self.max)",message="spec.analysis.metrics[].thresholdRange: set min, max or both",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="!has(self.min) || !has(self.max) || quantity(string(self.min)).compareTo(quantity(string(self.max))) <= 0",message="spec.analysis.metrics[].thresholdRange: min must not be greater than max",reason=FieldValueInvalid
type ThresholdRange struct {
	// Min is the lowest passing value (inclusive).
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=32
	Min *resource.Quantity `json:"min,omitempty"`

	// Max is the highest passing value (inclusive).
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=32
	Max *resource.Quantity `json:"max,omitempty"`
}

// WebhookType says when a Canary webhook is called and what its answer means.
// Only a 2xx answer counts as yes.
// +kubebuilder:validation:Enum=confirm-rollout;pre-rollout;rollout;confirm-traffic-increase;confirm-promotion;post-rollout;rollback;event
type WebhookType string

const (
	// WebhookConfirmRollout gates the start of a run (phase Waiting until yes).
	WebhookConfirmRollout WebhookType = "confirm-rollout"
	// WebhookPreRollout runs once before traffic moves; a no counts as a
	// failed check.
	WebhookPreRollout WebhookType = "pre-rollout"
	// WebhookRollout runs every interval with the metrics (load tests,
	// acceptance tests); a no counts as a failed check.
	WebhookRollout WebhookType = "rollout"
	// WebhookConfirmTrafficIncrease gates each weight increase.
	WebhookConfirmTrafficIncrease WebhookType = "confirm-traffic-increase"
	// WebhookConfirmPromotion gates promotion (phase WaitingPromotion).
	WebhookConfirmPromotion WebhookType = "confirm-promotion"
	// WebhookPostRollout is called once after promotion or rollback; its
	// answer is ignored.
	WebhookPostRollout WebhookType = "post-rollout"
	// WebhookRollback is asked every interval during analysis; a yes rolls
	// the run back.
	WebhookRollback WebhookType = "rollback"
	// WebhookEvent receives every phase transition; its answer is ignored.
	WebhookEvent WebhookType = "event"
)

// CanaryWebhook is an HTTP endpoint the operator POSTs JSON to (name,
// namespace, phase, checksum, metadata).
// +kubebuilder:validation:XValidation:rule="!has(self.gateTimeout) || self.type.startsWith('confirm-')",message="spec.analysis.webhooks[].gateTimeout: only applies to confirm-rollout, confirm-traffic-increase and confirm-promotion webhooks",fieldPath=".gateTimeout",reason=FieldValueForbidden
type CanaryWebhook struct {
	// Name of the webhook, unique in the Canary.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Type says when the webhook is called. Default: rollout.
	// +optional
	// +kubebuilder:default=rollout
	Type WebhookType `json:"type,omitempty"`

	// URL to POST to (http or https).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHost() != ''",message="spec.analysis.webhooks[].url: must be an absolute http or https URL"
	URL string `json:"url"`

	// Timeout of one call, e.g. "30s". Default: 10s.
	// +optional
	// +kubebuilder:default="10s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Metadata is sent with each call, e.g. the command of a load tester.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Metadata map[string]string `json:"metadata,omitempty"`

	// GateTimeout, for confirm-* webhooks only, is how long the gate may stay
	// closed: after it the run fails and rolls back (a confirm-rollout gate
	// then abandons the revision; the primary keeps serving). Default: wait
	// forever.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	GateTimeout *metav1.Duration `json:"gateTimeout,omitempty"`
}

// MetricsServer is a Prometheus-compatible server that a Canary reads its
// metrics from.
type MetricsServer struct {
	// Address of the server, e.g. http://prometheus.monitoring:9090.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHost() != ''",message="spec.analysis.metricsServer.address: must be an absolute http or https URL"
	Address string `json:"address"`

	// AuthSecretRef names a Secret in the Canary's namespace with either the
	// key `token` (sent as a bearer token) or the keys `username` and
	// `password` (basic auth). Default: no authentication.
	// +optional
	AuthSecretRef *LocalSecretReference `json:"authSecretRef,omitempty"`

	// CASecretRef names a Secret in the Canary's namespace whose key `ca.crt`
	// holds the PEM CA bundle that signs the server's certificate.
	// Default: the system's trusted CAs.
	// +optional
	CASecretRef *LocalSecretReference `json:"caSecretRef,omitempty"`

	// InsecureSkipVerify skips verification of the server's certificate.
	// Default: false.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}
