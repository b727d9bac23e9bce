package main

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts cmd in a process group of its own and has the kernel send
// it SIGTERM if devstack dies without stopping it (say, SIGKILL).
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
