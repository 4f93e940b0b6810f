package breaker

import (
	"context"
	"testing"
	"time"
)

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func TestBreaker_EjectionTimeDoublesUpToTheCapAndResetsAfterAQuietSpell(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	var o, other Outlier
	b := New(Policy{ConsecutiveFailures: 2, BaseEjectionTime: time.Second, MaxEjectionTime: 5 * time.Second, MaxEjectionPercent: 100},
		[]*Outlier{&o, &other}, clock)
	ejectionLength := func() time.Duration {
		t.Helper()
		if b.Record(&o, true) {
			t.Fatal("ejected after one failure, want two")
		}
		if !b.Record(&o, true) {
			t.Fatal("not ejected after two consecutive failures")
		}
		d := o.EjectedUntil().Sub(clock.now)
		clock.now = o.EjectedUntil() // readmitted
		if o.Ejected() {
			t.Fatal("still ejected when the ejection time is over")
		}
		return d
	}
	for i, want := range []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second} {
		if got := ejectionLength(); got != want {
			t.Errorf("ejection %d lasted %v, want %v", i+1, got, want)
		}
	}
	clock.now = clock.now.Add(6 * time.Second) // longer than the cap without ejection
	if got := ejectionLength(); got != time.Second {
		t.Errorf("ejection after a quiet spell lasted %v, want the base 1s again", got)
	}
}

func TestBreaker_SuccessResetsTheRunOfFailures(t *testing.T) {
	var o Outlier
	b := New(Policy{ConsecutiveFailures: 3, BaseEjectionTime: time.Second, MaxEjectionPercent: 100}, []*Outlier{&o}, &fakeClock{})
	for range 5 {
		b.Record(&o, true)
		b.Record(&o, true)
		b.Record(&o, false)
	}
	if o.Ejected() {
		t.Error("ejected although no three failures were consecutive")
	}
}

func TestPending_AdmitsUpToTheLimitThenFailsFast(t *testing.T) {
	p := NewPending(1)
	free := make(chan bool)
	done := make(chan bool)
	go func() { done <- p.Wait(context.Background(), func() bool { return <-free }) }()
	for p.Waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	if p.Wait(context.Background(), func() bool { return false }) {
		t.Error("a second waiter was admitted beyond the limit of 1")
	}
	free <- true
	if !<-done {
		t.Error("the waiting request did not get the freed endpoint")
	}
	if NewPending(0).Wait(context.Background(), func() bool { return false }) {
		t.Error("a limit of 0 let a request wait")
	}
}
