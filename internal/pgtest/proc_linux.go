//go:build linux

package pgtest

import "syscall"

// sysProcAttr returns the attributes of a server process: run as cred (nil:
// as the current user), and killed if the test process dies first, so that
// a test binary stopped by its timeout leaves no server behind.
func sysProcAttr(cred *syscall.Credential, server bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Credential: cred}
	if server {
		a.Pdeathsig = syscall.SIGKILL
	}
	return a
}
