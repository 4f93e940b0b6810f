package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Types shared by more than one kind of this group.
//
// Durations are metav1.Duration (a Go duration string such as "30s", "1m30s"
// or "500ms") and every duration field carries the same pattern, so a value
// that does not parse is rejected by the API server instead of failing later
// in a controller:
//   ^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$
//
// Ratios and percentages are integers, never floating point: Kubernetes API
// conventions avoid floats because they do not round-trip exactly between
// languages and serialisers, and whole percents are precise enough for
// traffic shares. Where a decimal is needed (analysis thresholds) the type is
// resource.Quantity, which is exact.

// LocalSecretReference names a Secret in the namespace of the object that
// refers to it.
type LocalSecretReference struct {
	// Name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// SecretReference names a Secret in a given namespace. Used by the
// cluster-scoped Mesh.
type SecretReference struct {
	// Name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`
}

// ObjectMetadata is extra labels and annotations the operator puts on an
// object it creates.
type ObjectMetadata struct {
	// Labels added to the object.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// Annotations added to the object.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// MTLSMode says whether traffic between proxies must be mutual TLS.
// +kubebuilder:validation:Enum=STRICT;PERMISSIVE
type MTLSMode string

const (
	// MTLSStrict refuses plaintext: only meshed callers with a certificate of
	// the mesh get through.
	MTLSStrict MTLSMode = "STRICT"
	// MTLSPermissive accepts mTLS and plaintext on the same port (TLS is
	// detected from the first bytes), so workloads can join the mesh one by one.
	MTLSPermissive MTLSMode = "PERMISSIVE"
)

// RetryCondition names a failure after which a request may be tried again.
// +kubebuilder:validation:Enum=connect-failure;reset;"5xx";gateway-error;retriable-4xx
type RetryCondition string

const (
	// RetryOnConnectFailure: the connection could not be made. Always safe,
	// retried for any method.
	RetryOnConnectFailure RetryCondition = "connect-failure"
	// RetryOnReset: the connection was reset before a response.
	RetryOnReset RetryCondition = "reset"
	// RetryOn5xx: any 5xx response.
	RetryOn5xx RetryCondition = "5xx"
	// RetryOnGatewayError: 502, 503 or 504.
	RetryOnGatewayError RetryCondition = "gateway-error"
	// RetryOnRetriable4xx: 409.
	RetryOnRetriable4xx RetryCondition = "retriable-4xx"
)

// Retries says when and how often a failed request is tried again. A response
// is retried only for idempotent methods; connect failures for any method.
type Retries struct {
	// Attempts is the number of retries after the first try, 0 to 10.
	// Default: 2.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	Attempts *int32 `json:"attempts,omitempty"`

	// PerTryTimeout bounds each try, e.g. "2s". Default: none, only the
	// request timeout applies.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	PerTryTimeout *metav1.Duration `json:"perTryTimeout,omitempty"`

	// RetryOn lists the failures that allow a retry.
	// Default: [connect-failure, gateway-error].
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=5
	RetryOn []RetryCondition `json:"retryOn,omitempty"`
}
