package prometheus

import "syscall"

// childProcAttr makes the kernel kill Prometheus when the test binary dies
// without running its cleanups (go test's -timeout panics it), so no server
// outlives the test.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
