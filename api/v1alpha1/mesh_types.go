package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MeshName is the name of the one Mesh of a cluster.
const MeshName = "default"

// Mesh configures the Sluice service mesh of the cluster: the control plane,
// sidecar injection, mTLS, the metrics Canaries are analysed with, and how
// proxies are upgraded. There is exactly one, named `default`.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=sluicemesh,categories=sluice
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.installedVersion`,description="Control-plane version installed"
// +kubebuilder:printcolumn:name="mTLS",type=string,JSONPath=`.spec.mtls.mode`,description="Cluster-wide mTLS mode"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name == 'default'",message="metadata.name: the Mesh must be named default (there is exactly one per cluster)",reason=FieldValueInvalid
type Mesh struct {
	metav1.TypeMeta `json:",inline"`

	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is what the user asks for; every field has a default.
	// +optional
	// +kubebuilder:default={}
	Spec MeshSpec `json:"spec,omitempty"`

	// Status is what the operator observed and did.
	// +optional
	Status MeshStatus `json:"status,omitempty"`
}

// MeshSpec configures the mesh.
type MeshSpec struct {
	// Proxy configures the sidecar proxy injected into meshed pods.
	// +optional
	// +kubebuilder:default={}
	Proxy ProxySpec `json:"proxy,omitempty"`

	// ControlPlane configures the control plane (discovery, identity, injector).
	// +optional
	// +kubebuilder:default={}
	ControlPlane ControlPlaneSpec `json:"controlPlane,omitempty"`

	// Injection says which pods get a proxy.
	// +optional
	// +kubebuilder:default={}
	Injection InjectionSpec `json:"injection,omitempty"`

	// MTLS configures identities and mutual TLS between proxies.
	// +optional
	// +kubebuilder:default={}
	MTLS MeshMTLS `json:"mtls,omitempty"`

	// Metrics configures Prometheus for Canary analysis.
	// +optional
	// +kubebuilder:default={}
	Metrics MeshMetrics `json:"metrics,omitempty"`

	// EventWebhook receives every phase transition of every Canary (in
	// addition to the Canaries' own event webhooks), for notifications.
	// Default: none.
	// +optional
	EventWebhook *EventWebhook `json:"eventWebhook,omitempty"`

	// Upgrade says how running proxies move to a new proxy version.
	// +optional
	// +kubebuilder:default={}
	Upgrade ProxyUpgradeStrategy `json:"upgrade,omitempty"`
}

// LogLevel is the verbosity of a component's logs.
// +kubebuilder:validation:Enum=debug;info;warn;error
type LogLevel string

// ProxySpec configures the sidecar proxy.
type ProxySpec struct {
	// Version of the proxy (the image tag), e.g. v0.1.0. Changing it upgrades
	// running proxies as spec.upgrade says. Default: the operator's own
	// version.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9_][a-zA-Z0-9_.-]*$`
	Version string `json:"version,omitempty"`

	// Image is the proxy image repository, without tag. Default:
	// ghcr.io/sluicemesh/sluice-proxy.
	// +optional
	// +kubebuilder:default="ghcr.io/sluicemesh/sluice-proxy"
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image,omitempty"`

	// ImagePullPolicy of the proxy container. Default: IfNotPresent.
	// +optional
	// +kubebuilder:default=IfNotPresent
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// Resources of the proxy container. A pod can override them with the
	// annotations config.sluice.dev/proxy-cpu-request and the like.
	// Default: requests of 10m CPU and 32Mi memory, a 128Mi memory limit.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// LogLevel of the proxy. Default: info.
	// +optional
	// +kubebuilder:default=info
	LogLevel LogLevel `json:"logLevel,omitempty"`
}

// ControlPlaneSpec configures the control plane Deployment.
type ControlPlaneSpec struct {
	// Replicas of the control plane. Default: 1; use 2 or more for high
	// availability.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	Replicas int32 `json:"replicas,omitempty"`

	// Resources of the control-plane container. Default: requests of 50m CPU
	// and 64Mi memory.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// LogLevel of the control plane. Default: info.
	// +optional
	// +kubebuilder:default=info
	LogLevel LogLevel `json:"logLevel,omitempty"`
}

// SidecarMode says how the proxy container is added to a pod.
// +kubebuilder:validation:Enum=Auto;Native;Classic
type SidecarMode string

const (
	// SidecarAuto uses a native sidecar where the cluster supports it.
	SidecarAuto SidecarMode = "Auto"
	// SidecarNative always uses a native sidecar (an init container with
	// restartPolicy Always).
	SidecarNative SidecarMode = "Native"
	// SidecarClassic always uses a regular container.
	SidecarClassic SidecarMode = "Classic"
)

// InjectionSpec says which pods get a proxy. Pods of namespaces labelled
// `sluice.dev/inject=enabled` always do; a pod labelled
// `sluice.dev/inject=disabled` never does.
type InjectionSpec struct {
	// NamespaceSelector selects more namespaces whose pods get a proxy, in
	// addition to those labelled sluice.dev/inject=enabled. Default: none.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// SidecarMode says how the proxy is added. Default: Auto.
	// +optional
	// +kubebuilder:default=Auto
	SidecarMode SidecarMode `json:"sidecarMode,omitempty"`
}

// MeshMTLS configures workload identities and mutual TLS. Identities are
// SPIFFE URIs spiffe://<trustDomain>/ns/<namespace>/sa/<serviceaccount>;
// certificates chain trust anchor -> issuer -> leaf.
// +kubebuilder:validation:XValidation:rule="!has(self.certificateLifetime) || !has(self.issuerLifetime) || !self.certificateLifetime.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || !self.issuerLifetime.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self.certificateLifetime) < duration(self.issuerLifetime)",message="spec.mtls.certificateLifetime: must be shorter than spec.mtls.issuerLifetime",fieldPath=".certificateLifetime"
// +kubebuilder:validation:XValidation:rule="!has(self.issuerLifetime) || !has(self.trustAnchor) || !has(self.trustAnchor.selfSigned) || !has(self.trustAnchor.selfSigned.lifetime) || !self.issuerLifetime.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || !self.trustAnchor.selfSigned.lifetime.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self.issuerLifetime) < duration(self.trustAnchor.selfSigned.lifetime)",message="spec.mtls.issuerLifetime: must be shorter than spec.mtls.trustAnchor.selfSigned.lifetime (an issuer cannot outlive the anchor that signs it)",fieldPath=".issuerLifetime"
type MeshMTLS struct {
	// Mode for traffic into meshed pods: STRICT (plaintext refused) or
	// PERMISSIVE (mTLS and plaintext). A Policy can override it per Service.
	// Default: PERMISSIVE.
	// +optional
	// +kubebuilder:default=PERMISSIVE
	Mode MTLSMode `json:"mode,omitempty"`

	// TrustDomain of the SPIFFE identities. Default: cluster.local.
	// +optional
	// +kubebuilder:default="cluster.local"
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	TrustDomain string `json:"trustDomain,omitempty"`

	// TrustAnchor is the root of trust. Default: self-signed, created and
	// rotated by the operator.
	// +optional
	// +kubebuilder:default={selfSigned:{}}
	TrustAnchor *TrustAnchor `json:"trustAnchor,omitempty"`

	// IssuerLifetime is how long an issuer certificate lives; it is renewed
	// at renewPercent of its life without an outage. Default: 720h (30 days).
	// +optional
	// +kubebuilder:default="720h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	IssuerLifetime *metav1.Duration `json:"issuerLifetime,omitempty"`

	// CertificateLifetime is how long a proxy's leaf certificate lives, at
	// least 1h. Default: 24h.
	// +optional
	// +kubebuilder:default="24h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self) >= duration('1h')",message="spec.mtls.certificateLifetime: must be at least 1h"
	CertificateLifetime *metav1.Duration `json:"certificateLifetime,omitempty"`

	// RenewPercent is the share of a certificate's life after which it is
	// renewed. Default: 70.
	// +optional
	// +kubebuilder:default=70
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=90
	RenewPercent int32 `json:"renewPercent,omitempty"`
}

// TrustAnchor is the root certificate of the mesh: exactly one of secretRef
// or selfSigned.
// +kubebuilder:validation:XValidation:rule="has(self.secretRef) != has(self.selfSigned)",message="spec.mtls.trustAnchor: set exactly one of secretRef or selfSigned",reason=FieldValueInvalid
type TrustAnchor struct {
	// SecretRef names a Secret with the keys tls.crt and tls.key (the trust
	// anchor that signs issuers) and optionally ca.crt (extra anchors trusted
	// during a rotation). The operator never writes it.
	// +optional
	SecretRef *SecretReference `json:"secretRef,omitempty"`

	// SelfSigned makes the operator create and rotate its own trust anchor.
	// +optional
	SelfSigned *SelfSignedTrustAnchor `json:"selfSigned,omitempty"`
}

// SelfSignedTrustAnchor is a trust anchor the operator creates and rotates.
type SelfSignedTrustAnchor struct {
	// Lifetime of the trust anchor; a new one is introduced (trusted alongside
	// the old one) before the old expires. Default: 8760h (1 year).
	// +optional
	// +kubebuilder:default="8760h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Lifetime *metav1.Duration `json:"lifetime,omitempty"`
}

// MeshMetrics configures Prometheus for Canary analysis.
type MeshMetrics struct {
	// Server is the Prometheus server Canaries use when they name none.
	// Default: the manager's --metrics-server flag.
	// +optional
	Server *MeshMetricsServer `json:"server,omitempty"`

	// Templates are named PromQL query templates Canary metrics refer to with
	// templateRef. Default: none.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Templates []MetricTemplate `json:"templates,omitempty"`

	// ScrapeAnnotations adds prometheus.io/scrape, prometheus.io/port (14191)
	// and prometheus.io/path (/metrics) to injected pods. Default: true.
	// +optional
	// +kubebuilder:default=true
	ScrapeAnnotations *bool `json:"scrapeAnnotations,omitempty"`
}

// MeshMetricsServer is a Prometheus-compatible server; its Secrets live in a
// namespace given here because the Mesh has none.
type MeshMetricsServer struct {
	// Address of the server, e.g. http://prometheus.monitoring:9090.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHost() != ''",message="spec.metrics.server.address: must be an absolute http or https URL"
	Address string `json:"address"`

	// AuthSecretRef names a Secret with either the key `token` (bearer token)
	// or the keys `username` and `password` (basic auth). Default: none.
	// +optional
	AuthSecretRef *SecretReference `json:"authSecretRef,omitempty"`

	// CASecretRef names a Secret whose key `ca.crt` holds the PEM CA bundle
	// that signs the server's certificate. Default: the system's CAs.
	// +optional
	CASecretRef *SecretReference `json:"caSecretRef,omitempty"`

	// InsecureSkipVerify skips verification of the server's certificate.
	// Default: false.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// MetricTemplate is a named PromQL query template. Variables are those of
// Canary metrics: {{ namespace }}, {{ target }}, {{ service }},
// {{ interval }} and the metric's own variables.
type MetricTemplate struct {
	// Name Canary metrics use in templateRef.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Query is the PromQL template; it must return one number.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Query string `json:"query"`

	// RequestCountQuery counts the requests behind the value, for metrics
	// that set minRequests. Default: none.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	RequestCountQuery string `json:"requestCountQuery,omitempty"`
}

// EventWebhook is an HTTP endpoint that receives Canary events.
type EventWebhook struct {
	// URL to POST to (http or https).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHost() != ''",message="spec.eventWebhook.url: must be an absolute http or https URL"
	URL string `json:"url"`

	// Timeout of one call. Default: 10s.
	// +optional
	// +kubebuilder:default="10s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// ProxyUpgradeType says how running proxies move to a new version.
// +kubebuilder:validation:Enum=Manual;Rolling
type ProxyUpgradeType string

const (
	// ProxyUpgradeManual: new pods get the new proxy; running pods keep theirs
	// until the user restarts them.
	ProxyUpgradeManual ProxyUpgradeType = "Manual"
	// ProxyUpgradeRolling: the operator restarts injected workloads in batches,
	// optionally with an analysis between batches.
	ProxyUpgradeRolling ProxyUpgradeType = "Rolling"
)

// ProxyUpgradeStrategy says how running proxies move to a new version.
// +kubebuilder:validation:XValidation:rule="self.type == 'Rolling' || !has(self.rolling)",message="spec.upgrade.rolling: only applies to type Rolling",fieldPath=".rolling",reason=FieldValueForbidden
type ProxyUpgradeStrategy struct {
	// Type: Manual or Rolling. Default: Rolling.
	// +optional
	// +kubebuilder:default=Rolling
	Type ProxyUpgradeType `json:"type,omitempty"`

	// Rolling configures a Rolling upgrade. Default: batches of 25% of the
	// injected workloads, 1m apart, no analysis.
	// +optional
	Rolling *RollingProxyUpgrade `json:"rolling,omitempty"`
}

// RollingProxyUpgrade restarts injected workloads in batches.
type RollingProxyUpgrade struct {
	// BatchPercent is the share of injected workloads restarted per batch.
	// Default: 25.
	// +optional
	// +kubebuilder:default=25
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	BatchPercent int32 `json:"batchPercent,omitempty"`

	// Interval between the end of one batch (its workloads ready) and the
	// start of the next, at least 10s. Default: 1m.
	// +optional
	// +kubebuilder:default="1m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self) >= duration('10s')",message="spec.upgrade.rolling.interval: must be at least 10s"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Metrics are checked on the upgraded workloads between batches
	// ({{ target }} is each workload, {{ namespace }} its namespace); a failed
	// check stops the upgrade (condition Stalled, reason UpgradeGateFailed).
	// Default: none, no analysis.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	Metrics []AnalysisMetric `json:"metrics,omitempty"`
}

// MeshStatus is what the operator observed and did.
type MeshStatus struct {
	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// InstalledVersion is the control-plane version running.
	// +optional
	InstalledVersion string `json:"installedVersion,omitempty"`

	// Proxies counts the running proxies by version.
	// +optional
	// +listType=map
	// +listMapKey=version
	Proxies []ProxyVersionCount `json:"proxies,omitempty"`

	// IssuerExpiry is when the current issuer certificate expires.
	// +optional
	IssuerExpiry *metav1.Time `json:"issuerExpiry,omitempty"`

	// TrustAnchorExpiry is when the current trust anchor expires.
	// +optional
	TrustAnchorExpiry *metav1.Time `json:"trustAnchorExpiry,omitempty"`

	// Upgrade is the progress of a proxy upgrade; empty when none runs.
	// +optional
	Upgrade *ProxyUpgradeStatus `json:"upgrade,omitempty"`

	// Conditions: Ready, Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ProxyVersionCount is the number of running proxies of one version.
type ProxyVersionCount struct {
	// Version of the proxies.
	// +required
	Version string `json:"version"`

	// Count of running proxies with it.
	// +required
	Count int32 `json:"count"`
}

// ProxyUpgradeStatus is the progress of a Rolling proxy upgrade.
type ProxyUpgradeStatus struct {
	// TargetVersion is the version proxies are moving to.
	// +optional
	TargetVersion string `json:"targetVersion,omitempty"`

	// CompletedBatches counts the batches done.
	// +optional
	CompletedBatches int32 `json:"completedBatches,omitempty"`

	// PendingWorkloads counts the injected workloads still on an older proxy.
	// +optional
	PendingWorkloads int32 `json:"pendingWorkloads,omitempty"`

	// LastBatchTime is when the last batch finished.
	// +optional
	LastBatchTime *metav1.Time `json:"lastBatchTime,omitempty"`
}

// +kubebuilder:object:root=true

// MeshList is a list of Meshes.
type MeshList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Mesh `json:"items"`
}

func init() {
	register(&Mesh{}, &MeshList{})
}
