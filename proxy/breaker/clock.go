package breaker

import "time"

// Clock tells the time. Ejections are measured with it so that tests advance
// a fake clock instead of sleeping through a backoff.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real time.
var SystemClock Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
