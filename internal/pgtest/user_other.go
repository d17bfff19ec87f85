//go:build !unix

package pgtest

import (
	"errors"
	"os"
	"os/exec"
)

// credential stands in for syscall.Credential where there is none.
type credential struct{}

func serverUser() (*credential, error) { return nil, nil }

func chown(string, *credential) error { return nil }

func setUser(*exec.Cmd, *credential, bool) {}

func interrupt(p *os.Process, immediate bool) error {
	return errors.Join(errors.New("pgtest: no graceful shutdown on this system"), p.Kill())
}
