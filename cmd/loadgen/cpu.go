package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// What the CPU a scenario costs is read from: /proc/PID/stat of each
// process named by --cpu-pids (the gateway, PostgreSQL's postmaster, Redis)
// and of the load generator itself, each with all its live descendants.

// procGen is the load generator's name among the measured processes.
const procGen = "gen"

// procTimes is one process's CPU from its /proc/PID/stat, in clock ticks:
// its own (utime+stime) and that of its exited children it has reaped
// (cutime+cstime).
type procTimes struct {
	PID, PPID int
	Self      uint64
	Children  uint64
}

// parseStat reads a /proc/PID/stat line. The command name (field 2) is in
// parentheses and may hold spaces and parentheses of its own, so the fields
// after it are counted from its last ")".
func parseStat(line string) (procTimes, error) {
	open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 1 || end < open {
		return procTimes{}, fmt.Errorf("stat line without a (comm): %.60q", line)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
	if err != nil {
		return procTimes{}, fmt.Errorf("stat line's pid: %w", err)
	}
	// After the comm: 3 state, 4 ppid, … 14 utime, 15 stime, 16 cutime, 17 cstime.
	f := strings.Fields(line[end+1:])
	if len(f) < 15 {
		return procTimes{}, fmt.Errorf("stat line of %d has %d fields after the comm", pid, len(f))
	}
	var n [5]uint64
	for i, k := range []int{1, 11, 12, 13, 14} {
		v, err := strconv.ParseInt(f[k], 10, 64)
		if err != nil || v < 0 {
			return procTimes{}, fmt.Errorf("stat line of %d: field %d is %q", pid, k+3, f[k])
		}
		n[i] = uint64(v)
	}
	return procTimes{PID: pid, PPID: int(n[0]), Self: n[1] + n[2], Children: n[3] + n[4]}, nil
}

// treeTicks sums the CPU of root and of its live descendants in procs:
// each one's own and its reaped children's. A child that exits between two
// readings moves from its own figure to its parent's reaped one, so nothing
// is lost or counted twice. ok is false when root is not among procs.
func treeTicks(procs []procTimes, root int) (ticks uint64, ok bool) {
	kids := map[int][]int{}
	byPID := map[int]procTimes{}
	for _, p := range procs {
		kids[p.PPID] = append(kids[p.PPID], p.PID)
		byPID[p.PID] = p
	}
	if _, ok := byPID[root]; !ok {
		return 0, false
	}
	seen := map[int]bool{}
	todo := []int{root}
	for len(todo) > 0 {
		pid := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[pid] {
			continue
		}
		seen[pid] = true
		p := byPID[pid]
		ticks += p.Self + p.Children
		todo = append(todo, kids[pid]...)
	}
	return ticks, true
}

// readProcs reads the stat line of every process under dir (/proc). A
// process that exits while being read is left out.
func readProcs(dir string) ([]procTimes, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]procTimes, 0, len(ents))
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "stat"))
		if err != nil {
			continue
		}
		if p, err := parseStat(string(b)); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// cpuMeter reads the CPU ticks of the measured processes.
type cpuMeter struct {
	procDir string
	hz      float64        // clock ticks a second (getconf CLK_TCK)
	pids    map[string]int // name → root pid; procGen is this process
}

// parseCPUPids reads --cpu-pids: name=PID,… ; the generator is added.
func parseCPUPids(s string, hz float64) (*cpuMeter, error) {
	if hz <= 0 {
		return nil, errors.New("--clk-tck must be positive")
	}
	m := &cpuMeter{procDir: "/proc", hz: hz, pids: map[string]int{procGen: os.Getpid()}}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, v, ok := strings.Cut(part, "=")
		pid, err := strconv.Atoi(v)
		if !ok || name == "" || name == procGen || err != nil || pid <= 0 {
			return nil, fmt.Errorf("--cpu-pids %q: want name=PID (a name other than %s)", part, procGen)
		}
		m.pids[name] = pid
	}
	return m, nil
}

// snapshot is each measured process tree's ticks at a moment; a tree that
// could not be read is absent.
type snapshot map[string]uint64

func (m *cpuMeter) snapshot() snapshot {
	procs, err := readProcs(m.procDir)
	if err != nil {
		return nil
	}
	s := snapshot{}
	for name, pid := range m.pids {
		if t, ok := treeTicks(procs, pid); ok {
			s[name] = t
		}
	}
	return s
}

// cpuMsPerOp is each process's CPU milliseconds per operation between two
// snapshots: the ticks' delta at hz ticks a second, over ops. A process
// missing from either snapshot, or no operations, gives no figure.
func cpuMsPerOp(from, to snapshot, hz float64, ops int) map[string]float64 {
	if ops <= 0 || hz <= 0 {
		return nil
	}
	out := map[string]float64{}
	for name, end := range to {
		begin, ok := from[name]
		if !ok || end < begin {
			continue
		}
		ms := float64(end-begin) * 1000 / hz / float64(ops)
		out[name] = math.Round(ms*1000) / 1000
	}
	return out
}

// cpuWindow takes a snapshot at the start and at the end of a scenario's
// measured window, each from a timer of its own, off the send path.
type cpuWindow struct {
	m          *cpuMeter
	from, to   snapshot
	begin, end time.Time
	wg         sync.WaitGroup
}

// window schedules the snapshots of [start+warmup, start+d). With no meter
// it is nil, and its result empty.
func (m *cpuMeter) window(start time.Time, warmup, d time.Duration) *cpuWindow {
	if m == nil {
		return nil
	}
	w := &cpuWindow{m: m}
	w.wg.Add(2)
	time.AfterFunc(time.Until(start.Add(warmup)), func() {
		w.from, w.begin = m.snapshot(), time.Now()
		w.wg.Done()
	})
	time.AfterFunc(time.Until(start.Add(d)), func() {
		w.to, w.end = m.snapshot(), time.Now()
		w.wg.Done()
	})
	return w
}

// cpuUse is a scenario's CPU per operation over its measured window.
type cpuUse struct {
	Ops     int                `json:"ops"`       // requests answered 2xx in the window
	Seconds float64            `json:"seconds"`   // the window, between the two snapshots
	MsPerOp map[string]float64 `json:"ms_per_op"` // CPU ms (user+system) per op, by process
}

// result waits for the window's end and divides its CPU by ops.
func (w *cpuWindow) result(ops int) *cpuUse {
	if w == nil {
		return nil
	}
	w.wg.Wait()
	return &cpuUse{Ops: ops, Seconds: math.Round(w.end.Sub(w.begin).Seconds()*100) / 100,
		MsPerOp: cpuMsPerOp(w.from, w.to, w.m.hz, ops)}
}

// windowOps is the operations a scenario's CPU is divided by: the requests
// answered 2xx in the measured window, every op of the scenario together.
// Requests shed with 503 cost little but not nothing, and are in the CPU:
// the figure is what a request served costs, sheds included, so an
// overloaded scenario does not look cheaper for the requests it turned away. A flow's whole-payment spans are made of its create
// and pay requests (and the bank's callback, which banksim sends), so they
// are not counted again, nor bank-down's before/while halves.
func windowOps(sc *scenarioResult) int {
	n := 0
	for _, o := range sc.Ops {
		if strings.HasPrefix(o.Op, "flow ") {
			continue
		}
		n += o.OK
	}
	return n
}

// cpuText renders gw+pg+redis (their sum, then each) and the generator's
// figure for the table; "" where not measured.
func cpuText(u *cpuUse) (server, gen string) {
	if u == nil || len(u.MsPerOp) == 0 {
		return "", ""
	}
	var sum float64
	var parts []string
	for _, name := range []string{"gateway", "postgres", "redis"} {
		v, ok := u.MsPerOp[name]
		if !ok {
			parts = append(parts, "?")
			continue
		}
		sum += v
		parts = append(parts, fmt.Sprintf("%.3f", v))
	}
	var others []string
	for name := range u.MsPerOp {
		if !slices.Contains([]string{"gateway", "postgres", "redis", procGen}, name) {
			others = append(others, name)
		}
	}
	slices.Sort(others)
	for _, name := range others {
		parts = append(parts, fmt.Sprintf("%s %.3f", name, u.MsPerOp[name]))
	}
	server = fmt.Sprintf("%.3f = %s", sum, strings.Join(parts, "+"))
	if v, ok := u.MsPerOp[procGen]; ok {
		gen = fmt.Sprintf("%.3f", v)
	}
	return server, gen
}
