//go:build unix && !linux

package pgtest

import "syscall"

// sysProcAttr returns the attributes of a server process: run as cred (nil:
// as the current user).
func sysProcAttr(cred *syscall.Credential, server bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred}
}
