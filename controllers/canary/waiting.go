package canary

import "fmt"

// waitingFor is the Reconciling message while a pass waits for the
// Deployment named to be ready. It names where the detail is rather than
// echoing it: the Deployment controller rewrites a Deployment's status
// several times per rollout, and copying each step into the Canary's status
// cost a status write, a watch event and one more pass for each, about half
// of the manager's work with hundreds of Canaries. Past the progress
// deadline the message and the Event say exactly what is missing.
func waitingFor(deployment string) string {
	return fmt.Sprintf("waiting for Deployment %s to be ready (kubectl rollout status deployment/%s)", deployment, deployment)
}
