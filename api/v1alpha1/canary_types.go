package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Canary progressively delivers new revisions of a workload: each change of
// the target's pod template (or of a ConfigMap or Secret it references) is
// first run as a canary that receives a growing share of traffic, promoted
// when its metrics stay within their thresholds, and rolled back when they do
// not. The operator creates `<name>-primary`, a copy of the target that serves
// production traffic, and the Services `<name>` (what clients call),
// `<name>-primary` and `<name>-canary`; the target itself is the canary: it
// is scaled to zero between runs and up during a run. A missing target is
// not a rejection: the Canary reports Stalled with reason TargetNotFound.
//
// Manual actions: set the annotation `sluice.dev/action` to `promote`, `abort`,
// `retry`, `pause` or `resume`; the operator acts once and removes it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cn,categories=sluice
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.phase`,description="Phase of the rollout"
// +kubebuilder:printcolumn:name="Weight",type=integer,JSONPath=`.status.canaryWeight`,description="Percent of traffic on the canary"
// +kubebuilder:printcolumn:name="FailedChecks",type=integer,JSONPath=`.status.failedChecks`,description="Failed analysis checks of this run"
// +kubebuilder:printcolumn:name="LastTransition",type=date,JSONPath=`.status.lastTransitionTime`,description="Time of the last phase change"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Canary struct {
	metav1.TypeMeta `json:",inline"`

	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is what the user asks for.
	// +required
	Spec CanarySpec `json:"spec"`

	// Status is what the operator observed and did.
	// +optional
	Status CanaryStatus `json:"status,omitempty"`
}

// CanarySpec defines the workload to deliver, how traffic reaches it and how
// each new revision is analysed.
//
// +kubebuilder:validation:XValidation:rule="self.provider != 'kubernetes' || !(has(self.analysis.stepWeight) || has(self.analysis.stepWeights) || has(self.analysis.maxWeight) || has(self.analysis.stepWeightPromotion))",message="spec.analysis: provider kubernetes does blue/green only (iterations): stepWeight, stepWeights, maxWeight and stepWeightPromotion are not supported",fieldPath=".analysis",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule="!has(self.analysis.match) || self.provider in ['sluice', 'gatewayapi', 'istio', 'linkerd']",message="spec.analysis.match: header and query matching (A/B testing) needs provider sluice, gatewayapi, istio or linkerd",fieldPath=".analysis.match",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule="!has(self.analysis.mirror) || !self.analysis.mirror || self.provider in ['sluice', 'gatewayapi', 'istio']",message="spec.analysis.mirror: traffic mirroring needs provider sluice, gatewayapi or istio",fieldPath=".analysis.mirror",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule="self.provider != 'gatewayapi' || (has(self.service.gatewayRefs) && size(self.service.gatewayRefs) > 0)",message="spec.service.gatewayRefs: provider gatewayapi needs at least one Gateway to attach its HTTPRoute to",fieldPath=".service.gatewayRefs",reason=FieldValueRequired
type CanarySpec struct {
	// TargetRef is the workload to deliver. It is immutable: to deliver
	// another workload, create another Canary.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.targetRef: is immutable; create a new Canary to target another workload"
	TargetRef TargetReference `json:"targetRef"`

	// AutoscalerRef is the HorizontalPodAutoscaler of the target. The operator
	// makes a copy of it for the primary (`<name>-primary`). Optional.
	// +optional
	AutoscalerRef *AutoscalerReference `json:"autoscalerRef,omitempty"`

	// ProgressDeadlineSeconds is how long the canary (or the primary during
	// initialisation and promotion) may take to become ready before the run
	// fails and rolls back. Default: 600.
	// +optional
	// +kubebuilder:default=600
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=86400
	ProgressDeadlineSeconds int32 `json:"progressDeadlineSeconds,omitempty"`

	// SkipAnalysis promotes every new revision as soon as it is ready, without
	// metrics or webhooks. Default: false.
	// +optional
	SkipAnalysis bool `json:"skipAnalysis,omitempty"`

	// Suspend stops all work on this Canary (no new runs, a run in progress
	// stays where it is) until it is set back to false. Default: false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// RevertOnDeletion removes what the operator created (primary, Services,
	// route objects) when the Canary is deleted. Deleting a Canary never takes
	// the application down: in both cases the target is first scaled back up
	// and the apex Service pointed back at it; when false, the operator's
	// objects are left in place. Default: false.
	// +optional
	RevertOnDeletion bool `json:"revertOnDeletion,omitempty"`

	// Provider is what shifts the traffic: `sluice` (the default: a Gateway API
	// HTTPRoute attached to the apex Service, read by Sluice proxies),
	// `gatewayapi` (an HTTPRoute attached to service.gatewayRefs, for
	// north-south traffic), `istio` (VirtualService and DestinationRules),
	// `linkerd` (HTTPRoute), `smi` (TrafficSplit; weights only) or `kubernetes`
	// (blue/green by switching the apex Service's selector; no weights, no
	// matching, no mirroring).
	// +optional
	// +kubebuilder:default=sluice
	Provider Provider `json:"provider,omitempty"`

	// Service describes the Services and the route the operator creates.
	// +required
	Service CanaryService `json:"service"`

	// Analysis says how each new revision is tested and how traffic moves.
	// +required
	Analysis CanaryAnalysis `json:"analysis"`
}

// Provider is the router that shifts traffic between primary and canary.
// +kubebuilder:validation:Enum=sluice;gatewayapi;istio;linkerd;smi;kubernetes
type Provider string

const (
	ProviderSluice     Provider = "sluice"
	ProviderGatewayAPI Provider = "gatewayapi"
	ProviderIstio      Provider = "istio"
	ProviderLinkerd    Provider = "linkerd"
	ProviderSMI        Provider = "smi"
	ProviderKubernetes Provider = "kubernetes"
)

// TargetKind is the kind of workload a Canary delivers.
// Only Deployment for now; DaemonSet and StatefulSet can follow.
// +kubebuilder:validation:Enum=Deployment
type TargetKind string

// TargetKindDeployment is an apps/v1 Deployment.
const TargetKindDeployment TargetKind = "Deployment"

// TargetReference names the workload of a Canary in its namespace.
type TargetReference struct {
	// APIVersion of the workload. Default: apps/v1.
	// +optional
	// +kubebuilder:default="apps/v1"
	// +kubebuilder:validation:Enum=apps/v1
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the workload: Deployment. Default: Deployment.
	// +optional
	// +kubebuilder:default=Deployment
	Kind TargetKind `json:"kind,omitempty"`

	// Name of the workload. It also names the Services the operator creates
	// (`<name>`, `<name>-primary`, `<name>-canary`), so it must be a DNS label
	// of at most 55 characters (63 minus "-primary").
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=55
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
}

// AutoscalerReference names a HorizontalPodAutoscaler in the Canary's
// namespace.
// +kubebuilder:validation:XValidation:rule="!has(self.primaryScalerReplicas) || !has(self.primaryScalerReplicas.minReplicas) || !has(self.primaryScalerReplicas.maxReplicas) || self.primaryScalerReplicas.minReplicas <= self.primaryScalerReplicas.maxReplicas",message="spec.autoscalerRef.primaryScalerReplicas: minReplicas must not exceed maxReplicas",fieldPath=".primaryScalerReplicas"
type AutoscalerReference struct {
	// APIVersion of the autoscaler. Default: autoscaling/v2.
	// +optional
	// +kubebuilder:default="autoscaling/v2"
	// +kubebuilder:validation:Enum=autoscaling/v2
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the autoscaler. Default: HorizontalPodAutoscaler.
	// +optional
	// +kubebuilder:default=HorizontalPodAutoscaler
	// +kubebuilder:validation:Enum=HorizontalPodAutoscaler
	Kind string `json:"kind,omitempty"`

	// Name of the autoscaler.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=245
	Name string `json:"name"`

	// PrimaryScalerReplicas overrides the replica bounds of the primary's
	// autoscaler. Default: the target autoscaler's bounds.
	// +optional
	PrimaryScalerReplicas *ScalerReplicas `json:"primaryScalerReplicas,omitempty"`
}

// ScalerReplicas are replica bounds for an autoscaler.
type ScalerReplicas struct {
	// MinReplicas is the lower bound.
	// +optional
	// +kubebuilder:validation:Minimum=1
	MinReplicas *int32 `json:"minReplicas,omitempty"`

	// MaxReplicas is the upper bound.
	// +optional
	// +kubebuilder:validation:Minimum=1
	MaxReplicas *int32 `json:"maxReplicas,omitempty"`
}

// CanaryService describes the Services `<name>` (apex: what clients call),
// `<name>-primary` and `<name>-canary`, and the provider's route object.
type CanaryService struct {
	// Port the three Services expose.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`

	// PortName is the name of that Service port. Default: http.
	// +optional
	// +kubebuilder:default=http
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	PortName string `json:"portName,omitempty"`

	// TargetPort is the container port (number or name) the Services send
	// traffic to. Default: the same as port.
	// +optional
	TargetPort *intstr.IntOrString `json:"targetPort,omitempty"`

	// AppProtocol of the Service port, e.g. `http`, `kubernetes.io/h2c` or
	// `grpc`; proxies use it to pick the protocol. Default: none (HTTP/1.1).
	// +optional
	// +kubebuilder:validation:MaxLength=63
	AppProtocol *string `json:"appProtocol,omitempty"`

	// GatewayRefs are the Gateways (Gateway API parentRefs) the HTTPRoute is
	// attached to for north-south traffic. Required by provider gatewayapi;
	// other providers ignore it. The mesh route (provider sluice) always
	// attaches to the apex Service.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	GatewayRefs []gatewayv1.ParentReference `json:"gatewayRefs,omitempty"`

	// Hosts are the host names the route answers for (HTTPRoute hostnames,
	// VirtualService hosts). Default: none, only the Service's own names.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	Hosts []gatewayv1.Hostname `json:"hosts,omitempty"`

	// Timeout of a request through the route, e.g. "15s". Default: none.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Retries of failed requests through the route. Default: none. A Policy on
	// the apex Service wins over this for Sluice proxies.
	// +optional
	Retries *Retries `json:"retries,omitempty"`

	// Headers are set, added or removed on requests and responses through the
	// route. Default: none.
	// +optional
	Headers *HeaderModifiers `json:"headers,omitempty"`

	// Apex is extra metadata for the Service `<name>`.
	// +optional
	Apex *ObjectMetadata `json:"apex,omitempty"`

	// Primary is extra metadata for the Service `<name>-primary`.
	// +optional
	Primary *ObjectMetadata `json:"primary,omitempty"`

	// Canary is extra metadata for the Service `<name>-canary`.
	// +optional
	Canary *ObjectMetadata `json:"canary,omitempty"`
}

// HeaderModifiers change headers of the requests and responses through a
// route.
type HeaderModifiers struct {
	// Request headers to set, add or remove.
	// +optional
	Request *gatewayv1.HTTPHeaderFilter `json:"request,omitempty"`

	// Response headers to set, add or remove.
	// +optional
	Response *gatewayv1.HTTPHeaderFilter `json:"response,omitempty"`
}

// +kubebuilder:object:root=true

// CanaryList is a list of Canaries.
type CanaryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Canary `json:"items"`
}

func init() {
	register(&Canary{}, &CanaryList{})
}
