package browsertest

import (
	"strconv"
	"testing"
)

// assertNoHorizontalScroll fails t when the page is wider than width CSS
// pixels, so that a person on a phone would scroll sideways.
func assertNoHorizontalScroll(t *testing.T, b *Browser, width int) {
	t.Helper()
	raw := b.Eval(`document.scrollingElement.scrollWidth`)
	w, err := strconv.Atoi(raw)
	if err != nil {
		t.Fatalf("scrollWidth = %s", raw)
	}
	if w > width {
		t.Errorf("the page is %d px wide on a %d-px screen: it scrolls sideways", w, width)
	}
}
