package main

import "time"

// options are the command-line settings of one bench run.
type options struct {
	n       int
	timeout time.Duration
	idle    time.Duration
}
