package balancing

import (
	"testing"
	"time"
)

func endpoints(n int) []*Endpoint {
	eps := make([]*Endpoint, n)
	for i := range eps {
		eps[i] = NewEndpoint("127.0.0.1:"+string(rune('1'+i))+"000", "", "http1")
	}
	return eps
}

func TestPeakEWMA_AvoidsTheSlowEndpoint(t *testing.T) {
	eps := endpoints(3)
	now := monotonicNow()
	eps[0].observe(float64(200*time.Millisecond), now) // one slow answer: the peak takes over at once
	eps[1].observe(float64(time.Millisecond), now)
	eps[2].observe(float64(time.Millisecond), now)
	counts := map[*Endpoint]int{}
	for range 3000 {
		counts[PeakEWMA{}.Pick(eps)]++
	}
	// The slow endpoint is only picked when drawn twice, which P2C never does.
	if counts[eps[0]] != 0 {
		t.Errorf("slow endpoint got %d of 3000 picks, want 0", counts[eps[0]])
	}
	// Each fast endpoint wins at least every draw that pairs it with the slow
	// one: a third of the draws. (Between the two fast ones the slightly
	// cheaper always wins; that is P2C, not a bias.)
	if counts[eps[1]] < 750 || counts[eps[2]] < 750 {
		t.Errorf("fast endpoints got %d and %d picks, want at least a quarter each", counts[eps[1]], counts[eps[2]])
	}
}

func TestPeakEWMA_OutstandingRequestsRaiseTheCost(t *testing.T) {
	eps := endpoints(2)
	for range 10 {
		eps[0].Start() // ten requests stuck on endpoint 0
	}
	for range 100 {
		if got := (PeakEWMA{}).Pick(eps); got != eps[1] {
			t.Fatal("picked the endpoint with ten requests outstanding over an idle one")
		}
	}
}

func TestEndpoint_EstimateFallsBackAfterAPeak(t *testing.T) {
	e := NewEndpoint("127.0.0.1:1", "", "http1")
	now := monotonicNow()
	e.observe(float64(time.Second), now)
	if e.ewma != float64(time.Second) {
		t.Fatalf("peak not taken at once: %v", e.ewma)
	}
	// Fast answers over 30s (three decay times) pull the estimate down.
	for i := 1; i <= 300; i++ {
		e.observe(float64(time.Millisecond), now+int64(i)*int64(100*time.Millisecond))
	}
	if e.ewma > float64(100*time.Millisecond) {
		t.Errorf("estimate after 30s of 1ms answers = %v, want well under 100ms", time.Duration(e.ewma))
	}
}

func TestPeakEWMA_AvoidsAnEndpointThatFailsFast(t *testing.T) {
	eps := endpoints(2)
	eps[0].Done(eps[0].Start(), true) // a refused connection: instant, but a failure
	eps[1].Done(eps[1].Start(), false)
	for range 100 {
		if (PeakEWMA{}).Pick(eps) != eps[1] {
			t.Fatal("picked the endpoint whose last try failed")
		}
	}
}

func TestBalancers_SkipUnavailableEndpoints(t *testing.T) {
	for name, b := range map[string]Balancer{"PeakEWMA": PeakEWMA{}, "RoundRobin": &RoundRobin{}} {
		t.Run(name, func(t *testing.T) {
			eps := endpoints(4)
			eps[0].EjectFor(time.Hour)
			eps[1].SetMaxInflight(1)
			eps[1].Start()
			eps[2].EjectFor(time.Hour)
			for range 200 {
				if got := b.Pick(eps); got != eps[3] {
					t.Fatalf("picked %v, want the only available endpoint", got.Address)
				}
			}
			eps[3].EjectFor(time.Hour)
			if got := b.Pick(eps); got != nil {
				t.Errorf("picked %s with every endpoint unavailable", got.Address)
			}
			if b.Pick(nil) != nil {
				t.Error("picked from an empty list")
			}
		})
	}
}

func TestEndpoint_EjectionEnds(t *testing.T) {
	e := NewEndpoint("127.0.0.1:1", "", "http1")
	e.EjectFor(20 * time.Millisecond)
	if e.Healthy() {
		t.Fatal("healthy right after ejection")
	}
	time.Sleep(30 * time.Millisecond)
	if !e.Healthy() {
		t.Error("still ejected after the ejection time")
	}
}

func TestRoundRobin_TakesEndpointsInTurn(t *testing.T) {
	eps := endpoints(3)
	rr := &RoundRobin{}
	counts := map[*Endpoint]int{}
	for range 300 {
		counts[rr.Pick(eps)]++
	}
	for i, e := range eps {
		if counts[e] != 100 {
			t.Errorf("endpoint %d got %d of 300, want 100", i, counts[e])
		}
	}
}

func TestNew_RejectsUnknownAlgorithm(t *testing.T) {
	if _, err := New("Random"); err == nil {
		t.Error("New(Random) succeeded")
	}
}

func BenchmarkPeakEWMAPick(b *testing.B) {
	eps := endpoints(8)
	b.ReportAllocs()
	for b.Loop() {
		e := PeakEWMA{}.Pick(eps)
		e.Done(e.Start(), false)
	}
}
