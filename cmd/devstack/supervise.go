package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

// stopGrace is how long a child has to stop after SIGTERM before SIGKILL.
const stopGrace = 10 * time.Second

// child is one supervised program.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd.Wait has returned
	err  error         // cmd.Wait's result; read only after done
}

// supervisor starts programs and keeps them running together: when one ends
// by itself, or the context ends, it stops all the others, the last started
// first.
type supervisor struct {
	log   func(format string, args ...any)
	grace time.Duration
	// after is the clock of the stop's grace period (time.After).
	after    func(time.Duration) <-chan time.Time
	children []*child
}

func newSupervisor(log io.Writer) *supervisor {
	return &supervisor{
		log:   func(format string, args ...any) { fmt.Fprintf(log, "devstack: "+format+"\n", args...) },
		grace: stopGrace,
		after: time.After,
	}
}

// start starts cmd as the child name, in a process group of its own, so that
// a Ctrl-C on the terminal reaches the supervisor only and the children stop
// in order.
func (s *supervisor) start(name string, cmd *exec.Cmd) error {
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	s.children = append(s.children, c)
	return nil
}

// exitError says which child ended by itself, and how.
type exitError struct {
	name string
	err  error // from cmd.Wait: nil for a clean exit
}

func (e *exitError) Error() string {
	how := "exit status 0"
	if e.err != nil {
		how = e.err.Error()
	}
	return fmt.Sprintf("%s exited unexpectedly (%s)", e.name, how)
}

// run waits until ctx ends or a child exits, then stops every child still
// running in reverse order of start. It returns nil when ctx ended first,
// and otherwise an *exitError naming the child that exited.
func (s *supervisor) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range s.children {
		g.Go(func() error {
			select {
			case <-c.done:
				if gctx.Err() != nil {
					return nil // stopped by us, or while we were stopping anyway
				}
				return &exitError{name: c.name, err: c.err}
			case <-gctx.Done():
				return nil
			}
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		s.stopAll()
		return nil
	})
	return g.Wait()
}

// stopAll stops the children, the last started first, each one gone before
// the next is asked.
func (s *supervisor) stopAll() {
	for i := len(s.children) - 1; i >= 0; i-- {
		s.stop(s.children[i])
	}
}

// stop sends c's process group SIGTERM, and SIGKILL if c is still running
// after the grace period; it returns once c has exited.
func (s *supervisor) stop(c *child) {
	select {
	case <-c.done:
		return
	default:
	}
	pid := c.cmd.Process.Pid
	s.log("stopping %s (pid %d)", c.name, pid)
	if err := signalGroup(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		s.log("stopping %s: %v", c.name, err)
	}
	select {
	case <-c.done:
		return
	case <-s.after(s.grace):
	}
	s.log("%s did not stop within %s: killing it", c.name, s.grace)
	if err := signalGroup(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		s.log("killing %s: %v", c.name, err)
	}
	<-c.done
}

// signalGroup sends sig to the process group of pid (which leads it), so
// that anything the child started goes with it; a group already gone falls
// back to the process itself.
func signalGroup(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(-pid, sig); !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return syscall.Kill(pid, sig)
}
