package main

import "testing"

func TestOfferedRates(t *testing.T) {
	t.Parallel()
	ceil := map[string]float64{ceilCreate: 2039.7, ceilClear: 737.9, ceilRedis: 51216}
	for _, c := range []struct {
		name     string
		given    map[string]float64
		all      float64
		ceilings map[string]float64
		want     map[string]float64
	}{
		{"from the ceilings and targets", nil, 0, ceil, map[string]float64{"create": 1223, "clear": 368, "read": 10000,
			"mixed": 509, "overload": 1527, "replay": 3000, "flow": 50, "bank-down": 50}},
		{"a scenario's own rate first", map[string]float64{"create": 100, "flow": 7}, 0, ceil,
			map[string]float64{"create": 100, "clear": 368, "flow": 7, "bank-down": 7}},
		{"RATE before the ceilings", map[string]float64{"read": 3000}, 40, ceil,
			map[string]float64{"create": 40, "clear": 40, "read": 3000, "mixed": 40, "overload": 120}},
		{"without ceilings", nil, 0, nil, map[string]float64{"create": 1000, "clear": 500, "read": 3000, "mixed": 600}},
	} {
		got := offeredRates(c.given, c.all, c.ceilings)
		for name, want := range c.want {
			if got[name] != want {
				t.Errorf("%s: %s = %v, want %v", c.name, name, got[name], want)
			}
		}
	}
}
