package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestStatsTrimsTheWarmupAndCountsOutcomes(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	rec := newRecorder("create", start)
	// One sample every 10 ms for 2 s; the first second is warm-up and slow.
	for i := range 200 {
		sent := start.Add(time.Duration(i) * 10 * time.Millisecond)
		lat := time.Duration(i%100+1) * time.Millisecond
		res := result{Status: http.StatusCreated}
		if i < 100 {
			lat = time.Second
		}
		if i == 150 {
			res = result{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"1"}}}
		}
		rec.add(sent, lat, res)
	}
	st := stats("create", rec, 100, time.Second, 2*time.Second)
	if st.Requests != 100 || st.OK != 99 || st.Outcomes["503"] != 1 || rec.counts["retry_after"] != 1 {
		t.Fatalf("requests %d, ok %d, outcomes %v, counts %v", st.Requests, st.OK, st.Outcomes, rec.counts)
	}
	if st.AchievedRPS != 99 {
		t.Fatalf("achieved %.1f/s, want 99", st.AchievedRPS)
	}
	// Latencies 1..100 ms after the warm-up: the slow warm-up is not seen.
	if st.P50ms != 50 || st.P99ms != 99 || st.MaxMs != 100 {
		t.Fatalf("p50 %.0f p99 %.0f max %.0f", st.P50ms, st.P99ms, st.MaxMs)
	}
	if len(st.Series) != 2 || st.Series[0].OK != 100 || st.Series[1].OK != 99 {
		t.Fatalf("series %+v", st.Series)
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	if quantile(nil, .99) != 0 {
		t.Fatal("quantile of nothing")
	}
	d := []time.Duration{1, 2, 3, 4}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0, 1}, {.5, 2}, {.75, 3}, {.99, 4}, {1, 4}} {
		if got := quantile(d, tt.q); got != tt.want {
			t.Errorf("quantile %.2f = %d, want %d", tt.q, got, tt.want)
		}
	}
}

func TestJudgeOverload(t *testing.T) {
	t.Parallel()
	rep := &report{Scenarios: []*scenarioResult{
		{Name: "mixed", Ops: []*opStats{{Op: "read", P99ms: 10, Outcomes: map[string]int{}}}},
		{Name: "overload", Ops: []*opStats{
			{Op: "read", OKP99ms: 15, Outcomes: map[string]int{"503": 5}, Counts: map[string]int{"retry_after": 5}},
			{Op: "create", OKP99ms: 15, Outcomes: map[string]int{"timeout": 1}, Counts: map[string]int{}},
			{Op: "pay", OKP99ms: 25, Outcomes: map[string]int{}, Counts: map[string]int{}},
		}},
	}}
	judge(rep)
	ov := rep.Scenarios[1]
	for op, want := range map[string]string{"read": "met", "create": "missed", "pay": "missed"} {
		if got := ov.op(op).Verdict; len(got) < len(want) || got[:len(want)] != want {
			t.Errorf("overload %s: %q, want %s", op, got, want)
		}
	}
}

func TestCreateIsJudgedAgainstBothCreateCeilingsAndItsCPUShown(t *testing.T) {
	t.Parallel()
	rep := &report{Ceilings: map[string]float64{ceilCreate: 2000, ceilCreatePipelined: 5000}, Scenarios: []*scenarioResult{
		{Name: "create", Ops: []*opStats{{Scenario: "create", Op: "create", AchievedRPS: 1500, P99ms: 10, Outcomes: map[string]int{}}},
			CPU: &cpuUse{Ops: 7500, MsPerOp: map[string]float64{"gateway": 0.4, "postgres": 0.5, "redis": 0.1, procGen: 0.09}}},
	}}
	judge(rep)
	o := rep.Scenarios[0].Ops[0]
	if o.Ratio != 0.75 || o.PipelinedRatio != 0.3 || o.PipelinedCeilingRPS != 5000 || o.Verdict != "met" {
		t.Fatalf("%+v", o)
	}
	var b strings.Builder
	markdown(&b, rep)
	if row := "| create | create | 0 | 1500 | 0.0 | 0.0 | 10.0 | 0.0 | none | 2000 / pipelined 5000 | 0.75 / 0.30 | 1.000 = 0.400+0.500+0.100 | 0.090 |"; !strings.Contains(b.String(), row) {
		t.Fatalf("no row %q in\n%s", row, b.String())
	}
}
