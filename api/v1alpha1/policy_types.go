package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Policy sets how Sluice proxies treat traffic to one Service: retries,
// timeout, circuit breaking, fault injection, rate limiting, inbound mTLS and
// authorization. For Sluice proxies its settings win over those a Canary
// writes into its route. Only one Policy applies per Service: when several
// target the same Service the oldest is applied and the others report
// Accepted=False with reason Conflicted.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=spol;sluicepolicy,categories=sluice
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.targetRef.name`,description="Service the Policy applies to"
// +kubebuilder:printcolumn:name="Accepted",type=string,JSONPath=`.status.conditions[?(@.type=="Accepted")].status`
// +kubebuilder:printcolumn:name="Proxies",type=integer,JSONPath=`.status.appliedProxies`,description="Proxies that applied the Policy"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Policy struct {
	metav1.TypeMeta `json:",inline"`

	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is what the user asks for.
	// +required
	Spec PolicySpec `json:"spec"`

	// Status is what the operator observed and did.
	// +optional
	Status PolicyStatus `json:"status,omitempty"`
}

// PolicySpec is the traffic policy of one Service. Settings that are not set
// keep the proxies' defaults.
// +kubebuilder:validation:XValidation:rule="has(self.retries) || has(self.timeout) || has(self.circuitBreaker) || has(self.fault) || has(self.rateLimit) || has(self.mtls) || has(self.authorization)",message="spec: set at least one of retries, timeout, circuitBreaker, fault, rateLimit, mtls or authorization",reason=FieldValueRequired
type PolicySpec struct {
	// TargetRef is the Service, in the Policy's namespace, the Policy applies to.
	// +required
	TargetRef PolicyTargetReference `json:"targetRef"`

	// Retries of failed requests to the Service (outbound, at the caller's
	// proxy). Default: the route's retries, else none.
	// +optional
	Retries *PolicyRetries `json:"retries,omitempty"`

	// Timeout of a whole request to the Service, retries included, e.g.
	// "10s". Default: the route's timeout, else none.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// CircuitBreaker ejects failing endpoints of the Service and caps the load
	// on them. Default: none.
	// +optional
	CircuitBreaker *CircuitBreaker `json:"circuitBreaker,omitempty"`

	// Fault injects delays or errors into requests to the Service, for testing
	// resilience. Default: none.
	// +optional
	Fault *Fault `json:"fault,omitempty"`

	// RateLimit limits the requests each of the Service's pods accepts
	// (inbound, a local token bucket per proxy); beyond it they get 429.
	// Default: none.
	// +optional
	RateLimit *RateLimit `json:"rateLimit,omitempty"`

	// MTLS overrides the Mesh's mTLS mode for traffic into the Service's pods.
	// Default: the Mesh's mode.
	// +optional
	MTLS *InboundMTLS `json:"mtls,omitempty"`

	// Authorization decides which callers may reach the Service's pods.
	// Default: none, every caller allowed.
	// +optional
	Authorization *Authorization `json:"authorization,omitempty"`
}

// PolicyTargetReference names a Service in the Policy's namespace.
type PolicyTargetReference struct {
	// Kind of the target: Service. Default: Service.
	// +optional
	// +kubebuilder:default=Service
	// +kubebuilder:validation:Enum=Service
	Kind string `json:"kind,omitempty"`

	// Name of the Service.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
}

// PolicyRetries are retries with a budget.
type PolicyRetries struct {
	Retries `json:",inline"`

	// BudgetPercent caps retries at this percent of the live requests to the
	// Service, so retries cannot amplify an outage. An integer percent, not a
	// float ratio: Kubernetes APIs avoid floats (they do not round-trip
	// exactly), and whole percents are precise enough. Default: 20.
	// +optional
	// +kubebuilder:default=20
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	BudgetPercent *int32 `json:"budgetPercent,omitempty"`

	// MinRetriesPerSecond are allowed whatever the budget, so a few retries
	// get through at low traffic. Default: 10.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100000
	MinRetriesPerSecond *int32 `json:"minRetriesPerSecond,omitempty"`
}

// CircuitBreaker ejects endpoints that keep failing and limits concurrency.
type CircuitBreaker struct {
	// ConsecutiveErrors (5xx or transport errors) that eject an endpoint.
	// Default: 5.
	// +optional
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	ConsecutiveErrors int32 `json:"consecutiveErrors,omitempty"`

	// Interval at which ejected endpoints are reconsidered. Default: 10s.
	// +optional
	// +kubebuilder:default="10s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Interval *metav1.Duration `json:"interval,omitempty"`

	// BaseEjectionTime an endpoint stays ejected, doubled on each new ejection
	// of the same endpoint. Default: 30s.
	// +optional
	// +kubebuilder:default="30s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	BaseEjectionTime *metav1.Duration `json:"baseEjectionTime,omitempty"`

	// MaxEjectionPercent of the Service's endpoints that may be ejected at
	// once, 0 to 100. Default: 50.
	// +optional
	// +kubebuilder:default=50
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	MaxEjectionPercent *int32 `json:"maxEjectionPercent,omitempty"`

	// MaxConnections per endpoint from one proxy. Default: no limit.
	// +optional
	// +kubebuilder:validation:Minimum=1
	MaxConnections *int32 `json:"maxConnections,omitempty"`

	// MaxPendingRequests waiting for a connection; beyond it requests fail
	// fast with 503. Default: no limit.
	// +optional
	// +kubebuilder:validation:Minimum=1
	MaxPendingRequests *int32 `json:"maxPendingRequests,omitempty"`
}

// Fault injects a delay, an abort or both into a share of the requests.
// Percentages are whole integers (see PolicyRetries.BudgetPercent for why).
// +kubebuilder:validation:XValidation:rule="has(self.delay) || has(self.abort)",message="spec.fault: set delay, abort or both",reason=FieldValueRequired
type Fault struct {
	// Delay adds latency before the request is forwarded.
	// +optional
	Delay *FaultDelay `json:"delay,omitempty"`

	// Abort answers with an error status instead of forwarding.
	// +optional
	Abort *FaultAbort `json:"abort,omitempty"`

	// Headers, when set, limit the fault to requests carrying all of them.
	// Default: every request.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	Headers []gatewayv1.HTTPHeaderMatch `json:"headers,omitempty"`
}

// FaultDelay delays a share of requests.
type FaultDelay struct {
	// Duration of the delay, e.g. "500ms".
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Duration metav1.Duration `json:"duration"`

	// Percent of requests delayed, 0 to 100.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	Percent int32 `json:"percent"`
}

// FaultAbort fails a share of requests.
type FaultAbort struct {
	// Status code answered, 400 to 599.
	// +required
	// +kubebuilder:validation:Minimum=400
	// +kubebuilder:validation:Maximum=599
	Status int32 `json:"status"`

	// Percent of requests aborted, 0 to 100.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	Percent int32 `json:"percent"`
}

// RateLimit is a local token bucket in each proxy in front of the Service's
// pods.
type RateLimit struct {
	// RequestsPerSecond refilled into the bucket; more than 0.
	// +required
	// +kubebuilder:validation:Minimum=1
	RequestsPerSecond int32 `json:"requestsPerSecond"`

	// Burst is the bucket size: requests accepted at once after a quiet
	// period. Default: requestsPerSecond.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Burst *int32 `json:"burst,omitempty"`
}

// InboundMTLS is the mTLS mode for traffic into a Service's pods.
type InboundMTLS struct {
	// Mode: STRICT (plaintext refused) or PERMISSIVE (mTLS and plaintext).
	// +required
	Mode MTLSMode `json:"mode"`
}

// AuthorizationAction is what happens to a request no rule matched.
// +kubebuilder:validation:Enum=Allow;Deny
type AuthorizationAction string

const (
	// AuthorizationAllow lets the request through.
	AuthorizationAllow AuthorizationAction = "Allow"
	// AuthorizationDeny answers 403.
	AuthorizationDeny AuthorizationAction = "Deny"
)

// Authorization decides which callers may reach a Service's pods: a request
// is allowed when any rule matches it, else the default applies.
type Authorization struct {
	// Default for requests no rule matches: Allow or Deny. Default: Allow.
	// +optional
	// +kubebuilder:default=Allow
	Default AuthorizationAction `json:"default,omitempty"`

	// Rules that allow requests.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	Rules []AuthorizationRule `json:"rules,omitempty"`
}

// AuthorizationRule matches callers and requests. A rule matches when every
// list it sets matches (a list matches when any entry does); unset lists
// match anything. Plaintext callers have no identity and no namespace.
type AuthorizationRule struct {
	// Identities are caller SPIFFE URIs, e.g.
	// spiffe://cluster.local/ns/shop/sa/frontend.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:items:Pattern=`^spiffe://[^/]+/.+$`
	Identities []string `json:"identities,omitempty"`

	// Namespaces of callers.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespaces []string `json:"namespaces,omitempty"`

	// Methods of the request, e.g. GET.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:Enum=GET;HEAD;POST;PUT;PATCH;DELETE;OPTIONS;CONNECT;TRACE
	Methods []string `json:"methods,omitempty"`

	// PathPrefixes the request path starts with, matched on whole segments
	// (/api matches /api/v1, not /apis).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=1024
	// +kubebuilder:validation:items:Pattern=`^/`
	PathPrefixes []string `json:"pathPrefixes,omitempty"`
}

// PolicyStatus is what the operator observed and did.
type PolicyStatus struct {
	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// AppliedProxies counts the proxies that run with this Policy.
	// +optional
	AppliedProxies int32 `json:"appliedProxies,omitempty"`

	// Proxies lists the pods (namespace/name) whose proxies applied this
	// Policy; at most 100 are listed, appliedProxies counts them all.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=100
	Proxies []string `json:"proxies,omitempty"`

	// Conditions: Accepted (False with reason Conflicted when an older Policy
	// already targets the Service), Ready, Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true

// PolicyList is a list of Policies.
type PolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Policy `json:"items"`
}

func init() {
	register(&Policy{}, &PolicyList{})
}
