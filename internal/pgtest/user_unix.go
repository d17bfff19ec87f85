//go:build unix

package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// credential is the user a server's programs run as.
type credential = syscall.Credential

// serverUser returns the credential the server's programs run under: nil
// (the current user) unless the current user is root, which initdb refuses;
// then the "postgres" user that Debian's and most other packages create.
func serverUser() (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, and initdb refuses root: need the user \"postgres\" to run the server as: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgtest: user postgres has non-numeric uid %q or gid %q", u.Uid, u.Gid)
	}
	return &credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// chown gives path to cred's user (nothing to do when cred is nil).
func chown(path string, cred *credential) error {
	if cred == nil {
		return nil
	}
	return os.Chown(path, int(cred.Uid), int(cred.Gid))
}

// setUser makes cmd run as cred.
func setUser(cmd *exec.Cmd, cred *credential, server bool) {
	cmd.SysProcAttr = sysProcAttr(cred, server)
}

// interrupt asks the server for a fast shutdown (SIGINT) or, if immediate,
// an immediate one (SIGQUIT: no checkpoint, crash recovery at the next
// start).
func interrupt(p *os.Process, immediate bool) error {
	if immediate {
		return p.Signal(syscall.SIGQUIT)
	}
	return p.Signal(syscall.SIGINT)
}
