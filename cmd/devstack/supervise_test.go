package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/citizenpay/gateway/internal/testenv"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary, re-executed with childMode set, is the supervised child:
//
//	serve     says "ready", and on SIGTERM records "stopped NAME" and exits 0
//	exit3     says "ready" and exits 3
//	stubborn  says "ready", records "ignored NAME" on SIGTERM and runs on
const (
	childMode   = "DEVSTACK_TEST_CHILD"
	childName   = "DEVSTACK_TEST_NAME"
	childRecord = "DEVSTACK_TEST_RECORD"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childMode); mode != "" {
		os.Exit(beChild(mode))
	}
	os.Exit(m.Run())
}

func beChild(mode string) int {
	terms := make(chan os.Signal, 4)
	signal.Notify(terms, syscall.SIGTERM)
	record := func(what string) {
		f, err := os.OpenFile(os.Getenv(childRecord), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err == nil {
			fmt.Fprintf(f, "%s %s\n", what, os.Getenv(childName))
			f.Close()
		}
	}
	fmt.Println("ready")
	switch mode {
	case "exit3":
		return 3
	case "serve":
		<-terms
		record("stopped")
		return 0
	case "stubborn":
		for range terms {
			record("ignored")
		}
	}
	return 2
}

// fixture is a supervisor of test children, with the file they record in.
type fixture struct {
	t      *testing.T
	sup    *supervisor
	record string
	logs   strings.Builder
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, record: filepath.Join(t.TempDir(), "record")}
	f.sup = newSupervisor(&f.logs)
	t.Cleanup(func() {
		for _, c := range f.sup.children {
			_ = c.cmd.Process.Kill()
		}
	})
	return f
}

// start starts a child in mode and waits until it says it is ready (its
// signal handler is then in place).
func (f *fixture) start(name, mode string) *child {
	f.t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		f.t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childMode+"="+mode, childName+"="+name, childRecord+"="+f.record)
	cmd.Stdout, cmd.Stderr = w, os.Stderr
	err = f.sup.start(name, cmd)
	w.Close()
	if err != nil {
		f.t.Fatal(err)
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil || line != "ready\n" {
		f.t.Fatalf("child %s said %q (%v) instead of ready", name, line, err)
	}
	return f.sup.children[len(f.sup.children)-1]
}

// recorded returns what the children recorded, in order.
func (f *fixture) recorded() []string {
	f.t.Helper()
	b, err := os.ReadFile(f.record)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(string(b), " ", "_"))
}

func (f *fixture) assertAllExited() {
	f.t.Helper()
	for _, c := range f.sup.children {
		select {
		case <-c.done:
		default:
			f.t.Errorf("%s is still running after run returned", c.name)
		}
	}
}

func TestSignalStopsEveryChildInReverseOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, name := range []string{"banksim", "devidp", "webhooks", "gateway"} {
		f.start(name, "serve")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as main does on SIGINT or SIGTERM
	if err := f.sup.run(ctx); err != nil {
		t.Fatalf("run after the signal = %v, want nil", err)
	}
	f.assertAllExited()
	want := "stopped_gateway stopped_webhooks stopped_devidp stopped_banksim"
	if got := strings.Join(f.recorded(), " "); got != want {
		t.Errorf("children stopped as %q, want %q", got, want)
	}
	for _, c := range f.sup.children {
		if c.err != nil {
			t.Errorf("%s ended with %v, want a clean exit after SIGTERM", c.name, c.err)
		}
	}
}

func TestChildDyingStopsTheRest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.start("banksim", "serve")
	f.start("devidp", "exit3")
	f.start("gateway", "serve")
	err := f.sup.run(context.Background())
	var ee *exitError
	if !errors.As(err, &ee) {
		t.Fatalf("run = %v, want an *exitError", err)
	}
	if ee.name != "devidp" || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("run = %q, want devidp named with exit status 3", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the error %q is more than one line", err)
	}
	f.assertAllExited()
	want := "stopped_gateway stopped_banksim"
	if got := strings.Join(f.recorded(), " "); got != want {
		t.Errorf("the others stopped as %q, want %q", got, want)
	}
}

func TestChildIgnoringSIGTERMIsKilledAfterTheGrace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.start("banksim", "serve")
	stubborn := f.start("gateway", "stubborn")
	graces := make(chan time.Duration, 4)
	f.sup.after = func(d time.Duration) <-chan time.Time {
		graces <- d
		if len(graces) > 1 {
			return nil // banksim's grace never ends: it stops on SIGTERM
		}
		// The gateway's grace is over once it has been seen ignoring SIGTERM.
		ch := make(chan time.Time, 1)
		go func() {
			testenv.Poll(10*time.Second, func() bool {
				return strings.Contains(strings.Join(f.recorded(), " "), "ignored_gateway")
			})
			ch <- time.Time{}
		}()
		return ch
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.sup.run(ctx); err != nil {
		t.Fatalf("run = %v, want nil", err)
	}
	f.assertAllExited()
	if d := <-graces; d != stopGrace {
		t.Errorf("grace = %s, want %s", d, stopGrace)
	}
	var ws syscall.WaitStatus
	var exit *exec.ExitError
	if errors.As(stubborn.err, &exit) {
		ws, _ = exit.Sys().(syscall.WaitStatus)
	}
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("the stubborn child ended with %v, want killed by SIGKILL", stubborn.err)
	}
	want := "ignored_gateway stopped_banksim"
	if got := strings.Join(f.recorded(), " "); got != want {
		t.Errorf("recorded %q, want %q", got, want)
	}
	if !strings.Contains(f.logs.String(), "gateway did not stop within 10s: killing it") {
		t.Errorf("the log does not say the gateway was killed:\n%s", f.logs.String())
	}
}

func TestExitErrorNamesAChildThatExitedCleanly(t *testing.T) {
	t.Parallel()
	err := &exitError{name: "webhooks"}
	if got, want := err.Error(), "webhooks exited unexpectedly (exit status 0)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
