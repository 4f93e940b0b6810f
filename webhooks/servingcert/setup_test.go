package servingcert

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

// scene is one test's namespace, webhook configurations and options.
type scene struct {
	ns         string
	opts       Options
	validating string // URL-registered, as in a local run: rejects labelled ConfigMaps in ns
	mutating   string // Service-registered, as in a cluster install: never called (its selector matches nothing)
}

func newScene(t *testing.T) *scene {
	t.Helper()
	kubeapi.RequireEnv(t, env)
	ns := env.NewNamespace(t)
	s := &scene{
		ns:         ns,
		validating: "test-validating-" + rand.String(6),
		mutating:   "test-mutating-" + rand.String(6),
	}
	s.opts = Options{
		Namespace:             ns,
		SecretName:            "webhook-cert",
		ServiceName:           "webhook-service",
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		MutatingWebhookName:   s.mutating,
		ValidatingWebhookName: s.validating,
	}
	return s
}

// createWebhookConfigurations registers the validating webhook by URL on the replica's port and a mutating one
// through a Service, both without caBundle, as kustomize or run-local would apply them.
func (s *scene) createWebhookConfigurations(t *testing.T, port int) {
	t.Helper()
	ctx := context.Background()
	url := fmt.Sprintf("https://127.0.0.1:%d/validate-configmap", port)
	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: s.validating},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "vconfigmap.servingcert.test",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url},
			Rules:                   []admissionregistrationv1.RuleWithOperations{configMapCreate()},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": s.ns}},
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: s.mutating},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: "mconfigmap.servingcert.test",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
				Namespace: s.ns, Name: "webhook-service", Path: ptr.To("/mutate-configmap")}},
			Rules:                   []admissionregistrationv1.RuleWithOperations{configMapCreate()},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"servingcert.test/never": "true"}},
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	for _, obj := range []client.Object{validating, mutating} {
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatalf("create webhook configuration: %v", err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), obj) })
	}
}

func configMapCreate() admissionregistrationv1.RuleWithOperations {
	return admissionregistrationv1.RuleWithOperations{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
	}
}

func (s *scene) secret(g Gomega) *corev1.Secret {
	var secret corev1.Secret
	g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: s.opts.SecretName}, &secret)).To(Succeed())
	return &secret
}

func (s *scene) caBundles(g Gomega) (validating, mutating []byte) {
	var v admissionregistrationv1.ValidatingWebhookConfiguration
	var m admissionregistrationv1.MutatingWebhookConfiguration
	g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Name: s.validating}, &v)).To(Succeed())
	g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Name: s.mutating}, &m)).To(Succeed())
	return v.Webhooks[0].ClientConfig.CABundle, m.Webhooks[0].ClientConfig.CABundle
}

// expectCABundlesInjected waits until both configurations carry the Secret's current CA bundle and returns it.
func (s *scene) expectCABundlesInjected(g Gomega) []byte {
	var ca []byte
	g.Eventually(func(g Gomega) {
		ca = s.secret(g).Data[keyCACert]
		validating, mutating := s.caBundles(g)
		g.Expect(validating).To(Equal(ca), "validating caBundle")
		g.Expect(mutating).To(Equal(ca), "mutating caBundle")
	}).WithTimeout(30 * time.Second).Should(Succeed())
	return ca
}

// expectWebhookEnforced creates a labelled ConfigMap through the API server until the test webhook's rejection
// comes back: the API server then dialled https://127.0.0.1:<port> and trusted the served certificate.
func (s *scene) expectWebhookEnforced(g Gomega) {
	g.Eventually(func(g Gomega) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Namespace: s.ns, GenerateName: "denied-", Labels: map[string]string{deniedLabel: "yes"}}}
		err := env.Client.Create(context.Background(), cm)
		g.Expect(err).To(HaveOccurred(), "labelled ConfigMap admitted")
		g.Expect(err.Error()).To(ContainSubstring("denied by the test webhook"))
	}).WithTimeout(30 * time.Second).Should(Succeed())
	allowed := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, GenerateName: "allowed-"}}
	g.Expect(env.Client.Create(context.Background(), allowed)).To(Succeed(), "unlabelled ConfigMap rejected")
}

// expectServing waits until the replica presents the Secret's current serving certificate, verified with the CA
// bundle.
func expectServing(g Gomega, s *scene, r *replica) {
	g.Eventually(func(g Gomega) {
		secret := s.secret(g)
		want, err := parseCertificates(secret.Data[keyServingCert])
		g.Expect(err).NotTo(HaveOccurred())
		got, err := servedCertificate(r.port, secret.Data[keyCACert])
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got.SerialNumber).To(Equal(want[0].SerialNumber), "served certificate is not the Secret's")
	}).WithTimeout(30 * time.Second).Should(Succeed())
}

func TestSetup_IssuesSecretInjectsCABundleAndServesWebhookRegisteredByURL(t *testing.T) {
	g := NewWithT(t)
	s := newScene(t)
	r := startReplica(t, s.opts, nil)
	s.createWebhookConfigurations(t, r.port)
	waitReady(t, r)

	secret := s.secret(g)
	g.Expect(secret.Type).To(Equal(corev1.SecretTypeTLS))
	serving, err := parseCertificates(secret.Data[keyServingCert])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(serving[0].DNSNames).To(ConsistOf(
		"webhook-service."+s.ns+".svc", "webhook-service."+s.ns+".svc.cluster.local"))
	g.Expect(serving[0].IPAddresses).To(HaveLen(1))
	g.Expect(serving[0].IPAddresses[0].String()).To(Equal("127.0.0.1"))

	s.expectCABundlesInjected(g)
	expectServing(g, s, r)
	s.expectWebhookEnforced(g)
	g.Expect(r.mgr.GetWebhookServer().StartedChecker()(nil)).To(Succeed())
}

func TestSetup_RenewsAnExpiringServingCertificateWhileServing(t *testing.T) {
	g := NewWithT(t)
	s := newScene(t)
	r := startReplica(t, s.opts, nil)
	s.createWebhookConfigurations(t, r.port)
	waitReady(t, r)
	caBefore := s.expectCABundlesInjected(g)

	// Put in a certificate of the same CA that is 90% through its life, as if the manager had been down for
	// most of a year.
	secret := s.secret(g)
	ca, err := parseKeyPair(secret.Data[keyCACert], secret.Data[keyCAKey])
	g.Expect(err).NotTo(HaveOccurred())
	expiring, err := newServingCert(ca, s.opts.withDefaults().subject(), time.Now().Add(-9*24*time.Hour), 10*24*time.Hour)
	g.Expect(err).NotTo(HaveOccurred())
	secret.Data[keyServingCert], secret.Data[keyServingKey] = expiring.CertPEM, expiring.KeyPEM
	g.Expect(env.Client.Update(context.Background(), secret)).To(Succeed())

	g.Eventually(func(g Gomega) {
		current, err := parseCertificates(s.secret(g).Data[keyServingCert])
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(current[0].SerialNumber).NotTo(Equal(expiring.Cert.SerialNumber), "expiring certificate kept")
		g.Expect(current[0].NotAfter).To(BeTemporally(">", time.Now().Add(300*24*time.Hour)))
	}).WithTimeout(30 * time.Second).Should(Succeed())
	expectServing(g, s, r)
	g.Expect(s.expectCABundlesInjected(g)).To(Equal(caBefore), "renewing the serving certificate changed the CA")
	s.expectWebhookEnforced(g)
}

func TestSetup_RecreatesADeletedSecretAndInjectsTheNewCA(t *testing.T) {
	g := NewWithT(t)
	s := newScene(t)
	r := startReplica(t, s.opts, nil)
	s.createWebhookConfigurations(t, r.port)
	waitReady(t, r)
	caBefore := s.expectCABundlesInjected(g)

	g.Expect(env.Client.Delete(context.Background(), s.secret(g))).To(Succeed())

	g.Eventually(func(g Gomega) {
		g.Expect(s.secret(g).Data[keyCACert]).NotTo(Equal(caBefore))
	}).WithTimeout(30 * time.Second).Should(Succeed())
	g.Expect(s.expectCABundlesInjected(g)).NotTo(Equal(caBefore))
	expectServing(g, s, r)
	s.expectWebhookEnforced(g)
}

func TestSetup_ReinjectsCABundleWhenAConfigurationIsReapplied(t *testing.T) {
	g := NewWithT(t)
	s := newScene(t)
	r := startReplica(t, s.opts, nil)
	s.createWebhookConfigurations(t, r.port)
	waitReady(t, r)
	ca := s.expectCABundlesInjected(g)

	// `kubectl apply` of the manifests writes the caBundle back to empty.
	var v admissionregistrationv1.ValidatingWebhookConfiguration
	g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Name: s.validating}, &v)).To(Succeed())
	v.Webhooks[0].ClientConfig.CABundle = nil
	g.Expect(env.Client.Update(context.Background(), &v)).To(Succeed())

	g.Eventually(func(g Gomega) {
		validating, _ := s.caBundles(g)
		g.Expect(validating).To(Equal(ca))
	}).WithTimeout(30 * time.Second).Should(Succeed())
	s.expectWebhookEnforced(g)
}

func TestSetup_ANonLeaderReplicaServesTheLeadersCertificate(t *testing.T) {
	g := NewWithT(t)
	s := newScene(t)
	election := &replicaSettings{leaderElectionID: "servingcert-test-" + rand.String(6), leaderElectionNamespace: s.ns}

	leader := startReplica(t, s.opts, election)
	select {
	case <-leader.mgr.Elected():
	case <-time.After(30 * time.Second):
		t.Fatal("first replica not elected within 30s")
	}
	waitReady(t, leader)

	follower := startReplica(t, s.opts, election)
	s.createWebhookConfigurations(t, follower.port) // the API server calls the follower only
	waitReady(t, follower)
	select {
	case <-follower.mgr.Elected():
		t.Fatal("second replica elected while the first holds the lease: the test proves nothing")
	default:
	}
	expectServing(g, s, leader)
	expectServing(g, s, follower)
	s.expectCABundlesInjected(g)
	s.expectWebhookEnforced(g)
}

func TestSetup_ExternalCertificatesAreServedFromCertDirAndNothingIsGenerated(t *testing.T) {
	g := NewWithT(t)
	s := newScene(t)
	// What cert-manager or OLM would mount.
	mounted, err := renew(nil, s.opts.withDefaults().subject(), time.Now(), testLife)
	g.Expect(err).NotTo(HaveOccurred())
	certDir := t.TempDir()
	for _, name := range []string{keyServingCert, keyServingKey} {
		g.Expect(os.WriteFile(filepath.Join(certDir, name), mounted.Data[name], 0o600)).To(Succeed())
	}

	opts := s.opts
	opts.External = true
	r := startReplica(t, opts, &replicaSettings{certDir: certDir})
	waitReady(t, r)

	g.Eventually(func() error {
		_, err := servedCertificate(r.port, mounted.Data[keyCACert])
		return err
	}).WithTimeout(30*time.Second).Should(Succeed(), "the mounted certificate is not served")

	g.Consistently(func() bool {
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: s.opts.SecretName}, &corev1.Secret{})
		return apierrors.IsNotFound(err)
	}).WithTimeout(3*time.Second).Should(BeTrue(), "a Secret was generated although the certificates are external")
}
