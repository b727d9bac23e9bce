package httpapi

import (
	"strconv"
	"testing"
)

func TestRequestViews(t *testing.T) {
	v := newRequestViews(16)
	v.put("pr_a", 1, []byte("v1"))
	if b, ok := v.get("pr_a", 1); !ok || string(b) != "v1" {
		t.Fatalf("get v1: %q %v", b, ok)
	}
	if _, ok := v.get("pr_a", 2); ok {
		t.Fatal("version 2 served from version 1's entry")
	}
	v.put("pr_a", 2, []byte("v2"))
	v.put("pr_a", 1, []byte("v1 late")) // a slow reader of the old version
	if b, ok := v.get("pr_a", 2); !ok || string(b) != "v2" {
		t.Fatalf("a late write of version 1 replaced version 2: %q %v", b, ok)
	}
	for i := range 100 {
		v.put("pr_"+strconv.Itoa(i), 1, []byte("x"))
		if len(v.m) > 16 {
			t.Fatalf("%d entries, bound 16", len(v.m))
		}
	}
}
