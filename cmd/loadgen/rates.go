package main

import "math"

// rateNames are the scenarios with a rate of their own (--rate-NAME);
// overload and bank-down follow mixed and flow.
var rateNames = []string{"create", "replay", "clear", "flow", "read", "mixed"}

// rateDefaults says, for -help, where each default rate comes from.
var rateDefaults = map[string]string{
	"create": "0.6 × the create ceiling, else 1000", "replay": "3000", "clear": "0.5 × the clearing ceiling, else 500",
	"flow": "50", "read": "10000 with ceilings, else 3000", "mixed": "0.25 × the create ceiling, else 600",
}

// offeredRates gives each scenario its rate: the one given for it, else
// all (--rate), else the rate its target names. Create is offered 0.6 × its
// ceiling and clear 0.5 ×, read 10,000/s; mixed 0.25 × create's ceiling, a
// rate the gateway sustains (its pays and clears cost about 2.5 creates each
// in the database; at 0.4 × the mix is past capacity and sheds), so that
// overload (3 × mixed) is 3 × what the gateway sustains. Without ceilings,
// fixed rates stand in.
func offeredRates(given map[string]float64, all float64, ceilings map[string]float64) map[string]float64 {
	target := map[string]float64{"create": 1000, "replay": 3000, "clear": 500, "flow": 50, "read": 3000, "mixed": 600}
	if c := ceilings[ceilCreate]; c > 0 {
		target["create"], target["mixed"], target["read"] = math.Floor(c*0.6), math.Floor(c*0.25), 10000
	}
	if c := ceilings[ceilClear]; c > 0 {
		target["clear"], target["read"] = math.Floor(c*0.5), 10000
	}
	rates := map[string]float64{}
	for _, name := range rateNames {
		switch {
		case given[name] > 0:
			rates[name] = given[name]
		case all > 0:
			rates[name] = all
		default:
			rates[name] = target[name]
		}
	}
	rates["overload"] = 3 * rates["mixed"]
	rates["bank-down"] = rates["flow"]
	return rates
}
