package main

import (
	"fmt"
	"strings"
)

// Ceiling names in the --ceilings file (loadgen ceilings writes them).
const (
	ceilCreate = "create_tps" // the create transaction, a second
	// the create's writes in one pipelined round trip (BEGIN, inserts, COMMIT), a second
	ceilCreatePipelined = "create_pipelined_tps"
	ceilClear           = "clear_tps"      // the clearing transaction, a second
	ceilRedis           = "redis_idem_rps" // the idempotency script, calls a second
)

// Issue 6's bounds.
const (
	memLimit   = 256.0 // MiB: the mixed soak's bound on resident memory
	memGrowth  = 1.10  // the soak's end may be at most this times its first fifth
	memSlack   = 8.0   // MiB of growth always tolerated
	p99Ratio   = 2.0   // overload: admitted p99 within this times the unloaded (mixed) one
	bankDownRt = 1.20  // bank-down: p99 after within this times before
	readTarget = 10000 // read: requests a second
)

// judge fills in ceilings, ratios, targets and verdicts (issue 6's targets).
func judge(rep *report) {
	var mixedP99 float64
	for _, sc := range rep.Scenarios {
		if sc.Name == "mixed" {
			for _, o := range sc.Ops {
				mixedP99 = max(mixedP99, o.P99ms)
			}
		}
	}
	for _, sc := range rep.Scenarios {
		for _, o := range sc.Ops {
			o.Target, o.Verdict = "-", "-"
			clean := len(o.Outcomes) == 0
			switch {
			case sc.Name == "create" && o.Op == "create":
				ratioTo(o, rep.Ceilings[ceilCreate], o.AchievedRPS)
				if c := rep.Ceilings[ceilCreatePipelined]; c > 0 {
					o.PipelinedCeilingRPS, o.PipelinedRatio = c, o.AchievedRPS/c
				}
				o.Target = "≥ 0.6 × ceiling, p99 ≤ 20 ms"
				o.Verdict = verdict(o.Ratio >= 0.6 && o.P99ms <= 20 && clean)
			case sc.Name == "replay":
				ratioTo(o, rep.Ceilings[ceilRedis], o.AchievedRPS)
				o.Target = "every answer replayed"
				// The counter covers the warm-up too: every 2xx in the window was a replay.
				o.Verdict = verdict(clean && o.Counts["replayed"] >= o.OK)
			case sc.Name == "clear" && o.Op == "clear":
				ratioTo(o, rep.Ceilings[ceilClear], o.AppliedRPS)
				o.Target = "applied ≥ 0.5 × ceiling, p99 ≤ 25 ms"
				o.Verdict = verdict(o.Ratio >= 0.5 && o.P99ms <= 25 && clean)
			case sc.Name == "read":
				o.Target = "≥ 10000/s, p99 ≤ 10 ms"
				o.Verdict = verdict(o.AchievedRPS >= readTarget && o.P99ms <= 10 && clean)
			case sc.Name == "mixed":
				o.Target = "no errors, p99 ≤ 25 ms"
				o.Verdict = verdict(clean && o.P99ms <= 25)
			case sc.Name == "overload":
				shed := 0
				for k, n := range o.Outcomes {
					if k == "429" || k == "503" {
						shed += n
					}
				}
				o.Target = fmt.Sprintf("0 timeouts; excess 429/503 with Retry-After; admitted p99 ≤ %.1f ms", p99Ratio*mixedP99)
				if mixedP99 == 0 {
					o.Target = "0 timeouts; excess 429/503 with Retry-After; admitted p99 ≤ 2 × mixed's (mixed not run: not judged)"
				}
				ok := o.Outcomes["timeout"] == 0 && o.Counts["retry_after"] >= shed && onlyShed(o.Outcomes) &&
					(mixedP99 == 0 || o.OKP99ms <= p99Ratio*mixedP99)
				o.Verdict = verdict(ok) + fmt.Sprintf(" (admitted p99 %.1f ms, %d shed)", o.OKP99ms, shed)
			case sc.Name == "bank-down" && strings.Contains(o.Op, " while "):
				before := sc.op(strings.Replace(o.Op, " while ", " before ", 1))
				if before != nil && before.P99ms > 0 {
					o.Target = fmt.Sprintf("p99 ≤ %.1f ms (1.2 × before)", bankDownRt*before.P99ms)
					o.Verdict = verdict(o.P99ms <= bankDownRt*before.P99ms) + fmt.Sprintf(" (×%.2f)", o.P99ms/before.P99ms)
				}
			}
		}
		if sc.Name == "mixed" {
			judgeMemory(sc)
		}
	}
}

// judgeMemory notes the gateway's resident memory over the soak: under
// 256 MiB, and flat from the first fifth (minute 1 of 5) to the end.
func judgeMemory(sc *scenarioResult) {
	if len(sc.RSS) < 3 {
		return
	}
	end := sc.RSS[len(sc.RSS)-1]
	refT := end.T / 5
	ref := sc.RSS[0]
	peak := 0.0
	for _, p := range sc.RSS {
		if p.T <= refT {
			ref = p
		}
		peak = max(peak, p.MiB)
	}
	flat := end.MiB <= max(ref.MiB*memGrowth, ref.MiB+memSlack)
	sc.note("rss_mib", fmt.Sprintf("%.0f at %.0fs → %.0f at %.0fs, peak %.0f", ref.MiB, ref.T, end.MiB, end.T, peak))
	sc.note("rss_verdict", verdict(peak < memLimit && flat))
}

func ratioTo(o *opStats, ceiling, achieved float64) {
	if ceiling > 0 {
		o.CeilingRPS = ceiling
		o.Ratio = achieved / ceiling
	}
}

// onlyShed reports whether every answer other than 2xx is a 429 or 503.
func onlyShed(outcomes map[string]int) bool {
	for k := range outcomes {
		if k != "429" && k != "503" {
			return false
		}
	}
	return true
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}
