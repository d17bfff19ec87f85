//go:build linux

package pgtest

import "syscall"

// sysProcAttr returns the attributes of a server process: run as cred (nil:
// as the current user), and killed if the test process dies first, so that
// a test binary stopped by its timeout leaves no server behind. (Linux sends
// the signal when the thread that started the process exits; Go exits a
// thread only when a goroutine locked to it ends, which neither this
// package nor the test framework does.)
func sysProcAttr(cred *syscall.Credential, server bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Credential: cred}
	if server {
		a.Pdeathsig = syscall.SIGKILL
	}
	return a
}
