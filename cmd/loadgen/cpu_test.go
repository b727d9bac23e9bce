package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// statLine is a /proc/PID/stat line with the given comm and times.
func statLine(pid, ppid int, comm string, utime, stime, cutime, cstime int) string {
	f := []string{strconv.Itoa(pid), "(" + comm + ")", "S", strconv.Itoa(ppid), "1", "1", "0", "-1", "4194560",
		"100", "0", "0", "0", strconv.Itoa(utime), strconv.Itoa(stime), strconv.Itoa(cutime), strconv.Itoa(cstime),
		"20", "0", "1", "0", "12345", "1000000", "200"}
	return strings.Join(f, " ") + "\n"
}

func TestParseStatReadsPastACommWithSpacesAndParentheses(t *testing.T) {
	t.Parallel()
	p, err := parseStat(statLine(1234, 1, "postgres: gateway x (y) ) S 9 9", 70, 30, 5, 2))
	if err != nil {
		t.Fatal(err)
	}
	if p.PID != 1234 || p.PPID != 1 || p.Self != 100 || p.Children != 7 {
		t.Fatalf("%+v", p)
	}
	for _, bad := range []string{"", "1234 postgres S 1", "x (a) S 1 2", "12 (a) S 1 2 3"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestTreeTicksCountsLiveDescendantsAndReapedChildren(t *testing.T) {
	t.Parallel()
	procs := []procTimes{
		{PID: 1, PPID: 0, Self: 1000, Children: 1000},   // init: not measured
		{PID: 10, PPID: 1, Self: 50, Children: 400},     // postmaster, 400 from exited backends
		{PID: 11, PPID: 10, Self: 300},                  // a backend
		{PID: 12, PPID: 10, Self: 20, Children: 0},      // the checkpointer
		{PID: 13, PPID: 12, Self: 5},                    // a grandchild
		{PID: 20, PPID: 1, Self: 7000, Children: 9000},  // another tree
		{PID: 21, PPID: 20, Self: 1, Children: 1 << 20}, // its child
	}
	if got, ok := treeTicks(procs, 10); !ok || got != 50+400+300+20+5 {
		t.Fatalf("tree of 10: %d %v", got, ok)
	}
	if got, ok := treeTicks(procs, 13); !ok || got != 5 {
		t.Fatalf("tree of 13: %d %v", got, ok)
	}
	if _, ok := treeTicks(procs, 99); ok {
		t.Fatal("a missing root was found")
	}
}

func TestCPUMsPerOp(t *testing.T) {
	t.Parallel()
	from := snapshot{"gateway": 1000, "postgres": 500, "redis": 10, procGen: 200, "gone": 5}
	to := snapshot{"gateway": 1300, "postgres": 650, "redis": 13, procGen: 260, "new": 9}
	// 300 ticks at 100 a second are 3 s of CPU: over 1,000 ops, 3 ms each.
	got := cpuMsPerOp(from, to, 100, 1000)
	want := map[string]float64{"gateway": 3, "postgres": 1.5, "redis": 0.03, procGen: 0.6}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v ms/op, want %v", k, got[k], v)
		}
	}
	if got := cpuMsPerOp(from, to, 100, 0); got != nil {
		t.Fatalf("no ops: %v", got)
	}
	server, gen := cpuText(&cpuUse{MsPerOp: got})
	if server != "4.530 = 3.000+1.500+0.030" || gen != "0.600" {
		t.Fatalf("table: %q, %q", server, gen)
	}
}

func TestCPUMeterReadsAProcTree(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(pid int, line string) {
		d := filepath.Join(dir, strconv.Itoa(pid))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "stat"), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(40, statLine(40, 1, "redis-server *:6379", 10, 5, 0, 0))
	write(50, statLine(50, 1, "postgres", 3, 1, 100, 20))
	write(51, statLine(51, 50, "postgres: gateway gateway_bench 127.0.0.1(5432) idle", 30, 10, 0, 0))
	if err := os.MkdirAll(filepath.Join(dir, "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	m, err := parseCPUPids("postgres=50, redis=40", 100)
	if err != nil {
		t.Fatal(err)
	}
	m.procDir = dir
	s := m.snapshot()
	if s["postgres"] != 164 || s["redis"] != 15 || len(s) != 2 {
		t.Fatalf("snapshot %v", s)
	}
	for _, bad := range []string{"postgres", "postgres=x", "gen=1", "=3"} {
		if _, err := parseCPUPids(bad, 100); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestWindowOpsLeavesOutWholeFlows(t *testing.T) {
	t.Parallel()
	sc := &scenarioResult{Ops: []*opStats{{Op: "create", Requests: 120, OK: 100}, {Op: "pay", Requests: 95, OK: 90}, {Op: "flow SBX", Requests: 90, OK: 90}}}
	if n := windowOps(sc); n != 190 {
		t.Fatalf("%d ops", n)
	}
}
