package metrics

import "os"

// Environment variables that tell the proxy who it runs for. The injector sets
// them: namespace, pod and service account from the downward API, workload
// from the pod's ReplicaSet owner (the Deployment's name).
const (
	EnvNamespace      = "SLUICE_NAMESPACE"
	EnvPod            = "SLUICE_POD"
	EnvWorkload       = "SLUICE_WORKLOAD"
	EnvServiceAccount = "SLUICE_SERVICE_ACCOUNT"
)

// Identity is the proxy's own place in the cluster; it labels every request
// metric.
type Identity struct {
	Namespace      string
	Pod            string
	Workload       string
	ServiceAccount string
}

// IdentityFromEnv reads the Identity from the SLUICE_* environment variables;
// unset ones are empty.
func IdentityFromEnv() Identity {
	return Identity{
		Namespace:      os.Getenv(EnvNamespace),
		Pod:            os.Getenv(EnvPod),
		Workload:       os.Getenv(EnvWorkload),
		ServiceAccount: os.Getenv(EnvServiceAccount),
	}
}
