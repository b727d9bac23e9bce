//go:build unix && !linux

package main

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts cmd in a process group of its own.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
