package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chromedp/chromedp"
)

// PageState is what the page says of itself: <html lang>, and the page and
// status of <main id="main" data-page data-status> (PROTOCOL.md §10's page
// contract). Found is false when the page has no such main.
type PageState struct {
	Found  bool   `json:"found"`
	Lang   string `json:"lang"`
	Page   string `json:"page"`
	Status string `json:"status"`
	URL    string `json:"url"`
}

// String describes the state for a test's message.
func (p PageState) String() string {
	if !p.Found {
		return fmt.Sprintf("a page without <main id=main> at %s", p.URL)
	}
	return fmt.Sprintf("page %q status %q lang %q at %s", p.Page, p.Status, p.Lang, p.URL)
}

const pageStateJS = `(() => {
	const m = document.getElementById('main');
	return {found: !!m && document.readyState !== 'loading', lang: document.documentElement.lang || '',
		page: m ? (m.dataset.page || '') : '', status: m ? (m.dataset.status || '') : '', url: location.href};
})()`

// State reads the page's state now. A page being replaced reads as not
// found.
func (b *Browser) State() PageState {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](pageStateJS))
	var st PageState
	if err != nil || json.Unmarshal(raw, &st) != nil {
		return PageState{URL: "(navigating)"}
	}
	return st
}

// WaitPage waits until the page is page with status status ("" for any),
// for at most timeout, polling the page's state (the page may replace
// itself meanwhile: a redirect, a meta refresh, a script's reload). It
// returns the state reached.
func (b *Browser) WaitPage(page, status string, timeout time.Duration) PageState {
	b.T.Helper()
	deadline := time.Now().Add(timeout)
	wait := 10 * time.Millisecond
	var st PageState
	for {
		st = b.State()
		if st.Found && st.Page == page && (status == "" || st.Status == status) {
			return st
		}
		if time.Now().After(deadline) {
			b.T.Fatalf("after %s: want page %q status %q, have %s", timeout, page, status, st)
		}
		time.Sleep(wait)
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// Replaced runs act, which makes the browser load another document (a form
// posted, a link followed), and waits until that document has replaced the
// current one: a page that reads the same as the one before (paid, then
// paid again) is still told apart.
func (b *Browser) Replaced(what string, act func()) {
	b.T.Helper()
	b.Eval(`document.documentElement.dataset.browsertestOld = "1"`)
	act()
	deadline := time.Now().Add(StepTimeout)
	wait := 10 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](
			`document.documentElement.dataset.browsertestOld === undefined && document.readyState === "complete"`))
		cancel()
		if err == nil && string(raw) == "true" {
			return
		}
		if time.Now().After(deadline) {
			b.T.Fatalf("%s: after %s the page at %s was not replaced", what, StepTimeout, b.location())
		}
		time.Sleep(wait)
		wait = min(2*wait, 100*time.Millisecond)
	}
}
