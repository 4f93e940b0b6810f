package servingcert

import (
	"crypto/x509"
	"net"
	"testing"
	"time"
)

var (
	testLife    = lifetimes{CA: 10 * 365 * 24 * time.Hour, Serving: 365 * 24 * time.Hour}
	testSubject = subject{
		DNSNames:    []string{"sluice-webhook-service.sluice-system.svc", "sluice-webhook-service.sluice-system.svc.cluster.local"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// mustRenew runs renew and fails the test on error.
func mustRenew(t *testing.T, data map[string][]byte, want subject, now time.Time) renewal {
	t.Helper()
	r, err := renew(data, want, now, testLife)
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	return r
}

// verifyServing checks what the API server checks: the serving certificate chains to the CA bundle and is valid
// for host at now.
func verifyServing(t *testing.T, data map[string][]byte, host string, now time.Time) *x509.Certificate {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(data[keyCACert]) {
		t.Fatalf("ca.crt holds no certificate")
	}
	pair, err := parseKeyPair(data[keyServingCert], data[keyServingKey])
	if err != nil {
		t.Fatalf("serving key pair: %v", err)
	}
	if _, err := pair.Cert.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, CurrentTime: now}); err != nil {
		t.Fatalf("serving certificate not valid for %s at %s: %v", host, now, err)
	}
	return pair.Cert
}

func TestRenew_IssuesCAAndServingCertForAnEmptySecret(t *testing.T) {
	r := mustRenew(t, nil, testSubject, t0)
	if r.Data == nil {
		t.Fatal("no data issued for an empty Secret")
	}
	for _, host := range []string{"sluice-webhook-service.sluice-system.svc", "sluice-webhook-service.sluice-system.svc.cluster.local", "127.0.0.1"} {
		verifyServing(t, r.Data, host, t0)
	}
	serving := verifyServing(t, r.Data, "127.0.0.1", t0)
	if got := serving.NotAfter.Sub(serving.NotBefore); got != testLife.Serving {
		t.Errorf("serving certificate lives %s, want %s", got, testLife.Serving)
	}
	if want := renewAt(serving); !r.Next.Equal(want) {
		t.Errorf("next check at %s, want the serving certificate's renewal time %s", r.Next, want)
	}
	if d := r.Next.Sub(t0); d < 290*24*time.Hour || d > 293*24*time.Hour {
		t.Errorf("next check in %s, want about 80%% of a year", d)
	}
}

func TestRenew_LeavesValidDataAlone(t *testing.T) {
	first := mustRenew(t, nil, testSubject, t0)
	again := mustRenew(t, first.Data, testSubject, t0.Add(200*24*time.Hour))
	if again.Data != nil {
		t.Fatalf("valid data rewritten: %v", again.Reasons)
	}
	if !again.Next.Equal(first.Next) {
		t.Errorf("next check moved from %s to %s", first.Next, again.Next)
	}
}

func TestRenew_RenewsServingCertAfter80PercentOfItsLifeUnderTheSameCA(t *testing.T) {
	first := mustRenew(t, nil, testSubject, t0)
	later := first.Next.Add(time.Minute)
	r := mustRenew(t, first.Data, testSubject, later)
	if r.Data == nil {
		t.Fatal("serving certificate past 80% of its life not renewed")
	}
	if string(r.Data[keyCACert]) != string(first.Data[keyCACert]) || string(r.Data[keyCAKey]) != string(first.Data[keyCAKey]) {
		t.Error("CA replaced although it is far from expiry: the caBundle would change needlessly")
	}
	renewed := verifyServing(t, r.Data, "127.0.0.1", later)
	if !renewed.NotAfter.After(later.Add(300 * 24 * time.Hour)) {
		t.Errorf("renewed certificate expires %s, want a fresh year", renewed.NotAfter)
	}
}

func TestRenew_ReissuesServingCertWhenNamesChange(t *testing.T) {
	first := mustRenew(t, nil, testSubject, t0)
	local := subject{IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	r := mustRenew(t, first.Data, local, t0.Add(time.Hour))
	if r.Data == nil {
		t.Fatal("names changed but the serving certificate was kept")
	}
	cert := verifyServing(t, r.Data, "localhost", t0.Add(time.Hour))
	if len(cert.DNSNames) != 1 {
		t.Errorf("DNS names %v, want only localhost", cert.DNSNames)
	}
	if string(r.Data[keyCACert]) != string(first.Data[keyCACert]) {
		t.Error("CA replaced for a change of names")
	}
}

func TestRenew_RotatesCAAndKeepsTrustingThePreviousOneUntilItExpires(t *testing.T) {
	first := mustRenew(t, nil, testSubject, t0)
	oldCA, err := parseKeyPair(first.Data[keyCACert], first.Data[keyCAKey])
	if err != nil {
		t.Fatal(err)
	}

	// A serving certificate issued late in the CA's life, still valid when the CA is due for renewal.
	beforeDue := renewAt(oldCA.Cert).Add(-24 * time.Hour)
	r := mustRenew(t, map[string][]byte{keyCACert: first.Data[keyCACert], keyCAKey: first.Data[keyCAKey]}, testSubject, beforeDue)
	servedByOldReplica := r.Data

	due := renewAt(oldCA.Cert).Add(time.Hour)
	rotated := mustRenew(t, servedByOldReplica, testSubject, due)
	if rotated.Data == nil {
		t.Fatal("CA past 80% of its life not renewed")
	}
	bundle, err := parseCertificates(rotated.Data[keyCACert])
	if err != nil || len(bundle) != 2 {
		t.Fatalf("CA bundle after rotation has %d certificates (%v), want the new and the previous CA", len(bundle), err)
	}
	verifyServing(t, rotated.Data, "127.0.0.1", due)
	// A replica that has not loaded the new Secret yet still serves the old certificate: it must stay trusted.
	stale := map[string][]byte{keyCACert: rotated.Data[keyCACert], keyServingCert: servedByOldReplica[keyServingCert], keyServingKey: servedByOldReplica[keyServingKey]}
	verifyServing(t, stale, "127.0.0.1", due)

	if !rotated.Next.Before(oldCA.Cert.NotAfter.Add(time.Second)) {
		t.Errorf("next check %s is after the previous CA expires (%s)", rotated.Next, oldCA.Cert.NotAfter)
	}
	afterOldExpiry := oldCA.Cert.NotAfter.Add(time.Hour)
	pruned := mustRenew(t, rotated.Data, testSubject, afterOldExpiry)
	if pruned.Data == nil {
		t.Fatal("expired previous CA kept in the bundle")
	}
	if bundle, _ := parseCertificates(pruned.Data[keyCACert]); len(bundle) != 1 {
		t.Errorf("CA bundle has %d certificates after the previous CA expired, want 1", len(bundle))
	}
}

func TestRenew_ServingCertNeverOutlivesItsCA(t *testing.T) {
	life := lifetimes{CA: 48 * time.Hour, Serving: 24 * time.Hour}
	first, err := renew(nil, testSubject, t0, life)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := parseKeyPair(first.Data[keyCACert], first.Data[keyCAKey])
	// Just before the CA's renewal time, a serving certificate of a full day would outlive the CA.
	r, err := renew(map[string][]byte{keyCACert: first.Data[keyCACert], keyCAKey: first.Data[keyCAKey]}, testSubject,
		renewAt(ca.Cert).Add(-time.Minute), life)
	if err != nil {
		t.Fatal(err)
	}
	serving, _ := parseKeyPair(r.Data[keyServingCert], r.Data[keyServingKey])
	if serving.Cert.NotAfter.After(ca.Cert.NotAfter) {
		t.Errorf("serving certificate expires %s, after its CA %s", serving.Cert.NotAfter, ca.Cert.NotAfter)
	}
}

func TestRenew_ReplacesUnusableData(t *testing.T) {
	valid := mustRenew(t, nil, testSubject, t0).Data
	other := mustRenew(t, nil, testSubject, t0).Data
	tests := []struct {
		name       string
		data       map[string][]byte
		keepsCA    bool
		wantsNewCA bool
	}{
		{name: "garbage everywhere", data: map[string][]byte{keyCACert: []byte("x"), keyCAKey: []byte("y"), keyServingCert: []byte("z"), keyServingKey: []byte("w")}, wantsNewCA: true},
		{name: "CA key missing", data: map[string][]byte{keyCACert: valid[keyCACert], keyServingCert: valid[keyServingCert], keyServingKey: valid[keyServingKey]}, wantsNewCA: true},
		{name: "serving key of another certificate", data: map[string][]byte{keyCACert: valid[keyCACert], keyCAKey: valid[keyCAKey], keyServingCert: valid[keyServingCert], keyServingKey: other[keyServingKey]}, keepsCA: true},
		{name: "serving certificate signed by another CA", data: map[string][]byte{keyCACert: valid[keyCACert], keyCAKey: valid[keyCAKey], keyServingCert: other[keyServingCert], keyServingKey: other[keyServingKey]}, keepsCA: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRenew(t, tt.data, testSubject, t0)
			if r.Data == nil {
				t.Fatal("unusable data kept")
			}
			verifyServing(t, r.Data, "127.0.0.1", t0)
			if tt.keepsCA && string(r.Data[keyCAKey]) != string(valid[keyCAKey]) {
				t.Error("a valid CA was replaced")
			}
			if tt.wantsNewCA && string(r.Data[keyCAKey]) == string(valid[keyCAKey]) {
				t.Error("an unusable CA was kept")
			}
		})
	}
}
