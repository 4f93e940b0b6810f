package e2e

import "syscall"

// childProcAttr makes the kernel kill a process the suite starts when the
// test binary dies without cleaning up (go test's -timeout panics it), so no
// manager is left talking to a deleted cluster.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
