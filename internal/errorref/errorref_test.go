package errorref

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	t.Parallel()
	e := Entry{Code: "invalid_amount", Status: 422, Title: "Unprocessable content",
		Text: Text{Meaning: "An amount is not `<whole đồng>`.", Fix: "Send `\"75000\"`."}}
	b, err := RenderCode(e)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, w := range []string{`<html lang="en">`, "HTTP 422 · Unprocessable content", "<code>invalid_amount</code>",
		"An amount is not <code>&lt;whole đồng&gt;</code>.", "<code>&#34;75000&#34;</code>", `href="/errors"`, StylesheetPath(), `name="viewport"`} {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q:\n%s", w, page)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "style=") || strings.Contains(page, "http") || len(b) > 100<<10 {
		t.Errorf("the page scripts, inlines a style, names an origin or is too big:\n%s", page)
	}
	index, err := RenderIndex([]Entry{e, {Code: "not_found", Status: 404, Title: "Not found"}})
	if err != nil || !strings.Contains(string(index), `href="/errors/not_found"`) || !strings.Contains(string(index), `href="/errors/invalid_amount"`) {
		t.Fatalf("index: %v\n%s", err, index)
	}
	missing, err := RenderNotFound("<b>")
	if err != nil || !strings.Contains(string(missing), "<code>&lt;b&gt;</code>") {
		t.Fatalf("not-found page: %v\n%s", err, missing)
	}
	if css, ok := Stylesheet(strings.TrimPrefix(StylesheetPath(), AssetsPath)); !ok || len(css) == 0 {
		t.Fatal("the stylesheet is not served under its name")
	}
	if _, ok := Stylesheet("errors.css"); ok {
		t.Fatal("the stylesheet is served under a name without its hash")
	}
}

func TestSpans(t *testing.T) {
	t.Parallel()
	got := spans("a `b` c `d`")
	want := []span{{false, "a "}, {true, "b"}, {false, " c "}, {true, "d"}}
	if len(got) != len(want) {
		t.Fatalf("spans = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("spans = %v, want %v", got, want)
		}
	}
}

func TestEveryTextIsWritten(t *testing.T) {
	t.Parallel()
	for _, c := range Codes() {
		if tx, _ := Of(c); strings.TrimSpace(tx.Meaning) == "" || strings.TrimSpace(tx.Fix) == "" ||
			strings.Count(tx.Meaning, "`")%2 != 0 || strings.Count(tx.Fix, "`")%2 != 0 {
			t.Errorf("%s: a text is empty or has an unpaired backtick: %+v", c, tx)
		}
	}
}
