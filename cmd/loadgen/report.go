package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// opStats is one operation of one scenario, over the measured window (the
// warm-up trimmed).
type opStats struct {
	Scenario    string         `json:"scenario"`
	Op          string         `json:"op"`
	OfferedRPS  float64        `json:"offered_rps"`
	AchievedRPS float64        `json:"achieved_rps"`          // 2xx answers a second
	AppliedRPS  float64        `json:"applied_rps,omitempty"` // clear: outcomes applied a second, counted in the database
	Requests    int            `json:"requests"`
	OK          int            `json:"ok"`
	P50ms       float64        `json:"p50_ms"`
	P95ms       float64        `json:"p95_ms"`
	P99ms       float64        `json:"p99_ms"`
	MaxMs       float64        `json:"max_ms"`
	OKP99ms     float64        `json:"ok_p99_ms"` // p99 of the admitted (2xx) requests only
	Outcomes    map[string]int `json:"outcomes"`  // answers other than 2xx, by status, and "timeout", "error"
	Counts      map[string]int `json:"counts,omitempty"`
	CeilingRPS  float64        `json:"ceiling_rps,omitempty"`
	Ratio       float64        `json:"ratio,omitempty"` // achieved (or applied) / ceiling
	// create: the create-pipelined ceiling (the create's writes in one round trip) and the ratio to it
	PipelinedCeilingRPS float64 `json:"pipelined_ceiling_rps,omitempty"`
	PipelinedRatio      float64 `json:"pipelined_ratio,omitempty"`
	Target              string  `json:"target,omitempty"`
	Verdict             string  `json:"verdict,omitempty"`
	Series              []point `json:"series"` // per second, warm-up included
}

// point is one second of a series.
type point struct {
	T     int     `json:"t"` // seconds since the phase started
	OK    int     `json:"ok"`
	P99ms float64 `json:"p99_ms"`
}

// rssPoint is the gateway's resident memory at a moment of a phase.
type rssPoint struct {
	T   float64 `json:"t"`
	MiB float64 `json:"mib"`
}

// scenarioResult is one scenario's numbers.
type scenarioResult struct {
	Name     string         `json:"name"`
	Duration string         `json:"duration"`
	Warmup   string         `json:"warmup"`
	Ops      []*opStats     `json:"ops"`
	RSS      []rssPoint     `json:"rss,omitempty"`
	CPU      *cpuUse        `json:"cpu,omitempty"` // CPU ms per op of the gateway, PostgreSQL, Redis and the generator
	Notes    map[string]any `json:"notes,omitempty"`

	cpu *cpuWindow // the measured window's snapshots, while the scenario runs
}

func (s *scenarioResult) op(name string) *opStats {
	for _, o := range s.Ops {
		if o.Op == name {
			return o
		}
	}
	return nil
}

func (s *scenarioResult) note(k string, v any) {
	if s.Notes == nil {
		s.Notes = map[string]any{}
	}
	s.Notes[k] = v
}

// stats computes the numbers of r's samples sent in [warmup, end).
func stats(scenario string, r *recorder, offered float64, warmup, end time.Duration) *opStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &opStats{Scenario: scenario, Op: r.op, OfferedRPS: offered, Outcomes: map[string]int{}, Counts: maps.Clone(r.counts)}
	var all, ok []time.Duration
	buckets := map[int][]time.Duration{}
	okPerSec := map[int]int{}
	last := 0
	for _, s := range r.samples {
		sec := int(s.at / time.Second)
		last = max(last, sec)
		if s.ok {
			buckets[sec] = append(buckets[sec], s.latency)
			okPerSec[sec]++
		}
		if s.at < warmup || s.at >= end {
			continue
		}
		st.Requests++
		if s.outcome != "timeout" && s.outcome != "error" {
			all = append(all, s.latency)
		}
		if s.ok {
			st.OK++
			ok = append(ok, s.latency)
		} else {
			st.Outcomes[s.outcome]++
		}
	}
	if window := (end - warmup).Seconds(); window > 0 {
		st.AchievedRPS = float64(st.OK) / window
	}
	sortDurations(all)
	sortDurations(ok)
	st.P50ms, st.P95ms, st.P99ms = ms(quantile(all, .50)), ms(quantile(all, .95)), ms(quantile(all, .99))
	if len(all) > 0 {
		st.MaxMs = ms(all[len(all)-1])
	}
	st.OKP99ms = ms(quantile(ok, .99))
	for sec := 0; sec <= last; sec++ {
		b := buckets[sec]
		sortDurations(b)
		st.Series = append(st.Series, point{T: sec, OK: okPerSec[sec], P99ms: ms(quantile(b, .99))})
	}
	return st
}

func sortDurations(d []time.Duration) { slices.Sort(d) }

// quantile of sorted d (nearest rank); 0 when empty.
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(q*float64(len(d))+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// errorsText renders the outcomes other than 2xx, or "none".
func errorsText(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := slices.Collect(maps.Keys(m))
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// markdown writes the results table.
func markdown(w io.Writer, rep *report) {
	fmt.Fprintf(w, "\n### Bench %s (%d cores, %s)\n\n", rep.Started.Format(time.RFC3339), rep.Cores, rep.Mode)
	fmt.Fprintln(w, "| scenario | op | offered/s | achieved/s | p50 ms | p95 ms | p99 ms | max ms | not 2xx | ceiling/s | ratio | CPU-ms/op gw+pg+redis | gen | target | verdict |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---|")
	for _, sc := range rep.Scenarios {
		for i, o := range sc.Ops {
			// The CPU is the scenario's, per request of all its ops: on its first row.
			var server, gen string
			if i == 0 {
				server, gen = cpuText(sc.CPU)
			}
			achieved := fmt.Sprintf("%.0f", o.AchievedRPS)
			if o.AppliedRPS > 0 {
				achieved += fmt.Sprintf(" (applied %.0f)", o.AppliedRPS)
			}
			ceiling, ratio := "", ""
			if o.CeilingRPS > 0 {
				ceiling, ratio = fmt.Sprintf("%.0f", o.CeilingRPS), fmt.Sprintf("%.2f", o.Ratio)
			}
			if o.PipelinedCeilingRPS > 0 {
				ceiling += fmt.Sprintf(" / pipelined %.0f", o.PipelinedCeilingRPS)
				ratio += fmt.Sprintf(" / %.2f", o.PipelinedRatio)
			}
			fmt.Fprintf(w, "| %s | %s | %.0f | %s | %.1f | %.1f | %.1f | %.1f | %s | %s | %s | %s | %s | %s | %s |\n",
				o.Scenario, o.Op, o.OfferedRPS, achieved, o.P50ms, o.P95ms, o.P99ms, o.MaxMs, errorsText(o.Outcomes),
				ceiling, ratio, server, gen, o.Target, o.Verdict)
		}
	}
	for _, sc := range rep.Scenarios {
		if len(sc.Notes) == 0 {
			continue
		}
		keys := slices.Collect(maps.Keys(sc.Notes))
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%v", k, sc.Notes[k]))
		}
		fmt.Fprintf(w, "\n- **%s**: %s", sc.Name, strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
}
