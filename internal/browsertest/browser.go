package browsertest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Browser is a headless Chromium for one test, with a profile of its own:
// no cookie, cache or history from another test. Its methods fail the test
// on error; every wait is bounded.
//
// When the test fails, the page it was on is kept as a screenshot (and its
// HTML and console) in the test's artefact folder: t.ArtifactDir() under
// `go test -artifacts`, else a folder under the system's temporary folder
// that the log names. With SCREENSHOTS_DIR set, Shot writes a PNG of the page
// there for reviewers.
type Browser struct {
	T   testing.TB
	ctx context.Context
	// Name prefixes the files of Shot, so that the journeys of several tests
	// can share one SCREENSHOTS_DIR.
	Name string

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
	shots   int
}

// Viewport is the size of the browser's window, in CSS pixels.
type Viewport struct {
	Width, Height int64
	// Mobile emulates a phone: the page's viewport meta tag applies, and
	// a device scale factor of 2.
	Mobile bool
}

// Viewports the tests use.
var (
	// Phone is a small Android phone, 360 px wide.
	Phone = Viewport{Width: 360, Height: 740, Mobile: true}
	// Desktop is a laptop's window.
	Desktop = Viewport{Width: 1280, Height: 900}
)

// StepTimeout bounds each browser step: a navigation, a click, a wait.
const StepTimeout = 20 * time.Second

// BrowserOption changes how a Browser starts.
type BrowserOption func(*browserSettings)

type browserSettings struct {
	viewport Viewport
	noScript bool
	name     string
}

// WithViewport sets the window's size; the default is Desktop.
func WithViewport(v Viewport) BrowserOption { return func(s *browserSettings) { s.viewport = v } }

// WithoutJavaScript turns the page's scripts off, as a citizen's browser
// may have them (emulation.SetScriptExecutionDisabled); the test's own
// DevTools evaluations still run.
func WithoutJavaScript() BrowserOption { return func(s *browserSettings) { s.noScript = true } }

// Named sets the prefix of the files Shot writes; the default is the test's
// name.
func Named(name string) BrowserOption { return func(s *browserSettings) { s.name = name } }

// NewBrowser starts Chromium: headless, without the sandbox (CI runs as
// root, where Chromium refuses its sandbox), in a new profile, in
// Vietnamese (Accept-Language vi-VN), as a citizen's phone would be.
func NewBrowser(t testing.TB, opts ...BrowserOption) *Browser {
	t.Helper()
	s := browserSettings{viewport: Desktop, name: fileName(t.Name())}
	for _, o := range opts {
		o(&s)
	}
	profile, err := os.MkdirTemp("", "browsertest-profile-")
	if err != nil {
		t.Fatal(err)
	}
	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(int(s.viewport.Width), int(s.viewport.Height)),
		chromedp.Flag("lang", "vi-VN"),
		chromedp.Flag("accept-lang", "vi-VN,vi"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	b := &Browser{T: t, ctx: ctx, Name: s.name}
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		if a, ok := chromedp.FromContext(ctx).Allocator.(*chromedp.ExecAllocator); ok {
			a.Wait()
		}
		_ = os.RemoveAll(profile)
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout
		t.Fatalf("start Chromium (scripts/services.sh install puts it on this machine): %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders,
				network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "vi-VN,vi;q=0.9"}})
			return err
		}),
	}
	if s.viewport.Mobile {
		steps = append(steps, chromedp.EmulateViewport(s.viewport.Width, s.viewport.Height,
			chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)))
	} else {
		steps = append(steps, chromedp.EmulateViewport(s.viewport.Width, s.viewport.Height))
	}
	if s.noScript {
		steps = append(steps, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}))
	}
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("set up Chromium: %v", err)
	}
	// Registered after the browser's own clean-up, so it runs first, while
	// the page is still there.
	t.Cleanup(func() {
		if t.Failed() {
			b.keepFailure()
		}
	})
	return b
}

// Do runs steps within StepTimeout, failing the test with what was being
// done when one fails.
func (b *Browser) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.T.Fatalf("%s (at %s): %v", what, b.location(), err)
	}
}

// Go opens url.
func (b *Browser) Go(url string) {
	b.T.Helper()
	b.Do("open "+url, chromedp.Navigate(url))
}

// Click clicks the element sel (CSS) once it is visible.
func (b *Browser) Click(sel string) {
	b.T.Helper()
	b.Do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// ClickText clicks the button or link whose visible text is text, as a
// person finds it.
func (b *Browser) ClickText(text string) {
	b.T.Helper()
	xp := fmt.Sprintf(`//*[self::button or self::a][normalize-space(.)=%s]`, xpathString(text))
	b.Do("click "+text, chromedp.Click(chromedp.Search(xp)))
}

// WaitVisible waits until the element sel (CSS) is visible.
func (b *Browser) WaitVisible(sel string) {
	b.T.Helper()
	b.Do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Visible reports whether the element sel (CSS) is on the page and shown,
// without waiting.
func (b *Browser) Visible(sel string) bool {
	b.T.Helper()
	return b.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s);
		return !!e && !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length) })()`, jsString(sel))) == "true"
}

// Present reports whether the element sel (CSS) is in the page, without
// waiting.
func (b *Browser) Present(sel string) bool {
	b.T.Helper()
	return b.Eval(fmt.Sprintf(`document.querySelector(%s) !== null`, jsString(sel))) == "true"
}

// Text is the visible text of the element sel (CSS), white space collapsed.
func (b *Browser) Text(sel string) string {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.T.Fatalf("read the text of %s (at %s): %v", sel, b.location(), err)
	}
	return strings.Join(strings.Fields(s), " ")
}

// Attr is attribute name of the element sel (CSS), "" when it has none.
func (b *Browser) Attr(sel, name string) string {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	r, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		b.T.Fatalf("read %s of %s (at %s): %v", name, sel, b.location(), err)
	}
	return r.Value
}

// Eval evaluates a JavaScript expression through DevTools (it runs even
// with the page's scripts off) and returns its result as JSON.
func (b *Browser) Eval(expr string) string {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		b.T.Fatalf("evaluate %s (at %s): %v", expr, b.location(), err)
	}
	return string(raw)
}

// EvalPromise is Eval for an expression that gives a promise: it returns
// what the promise resolves to, as JSON.
func (b *Browser) EvalPromise(expr string) string {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.T.Fatalf("evaluate %s (at %s): %v", expr, b.location(), err)
	}
	return string(raw)
}

// Location is the page's URL.
func (b *Browser) Location() string {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.T.Fatalf("read the location: %v", err)
	}
	return u
}

// location is the page's URL for a message, or why it is not known.
func (b *Browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "an unknown page"
	}
	return u
}

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

// Shot writes a PNG of the whole page to SCREENSHOTS_DIR as
// {Name}-{NN}-{name}.png, NN counting this browser's shots, when
// SCREENSHOTS_DIR is set; else it does nothing.
func (b *Browser) Shot(name string) {
	b.T.Helper()
	dir := os.Getenv("SCREENSHOTS_DIR")
	if dir == "" {
		return
	}
	png := b.screenshot()
	if png == nil {
		b.T.Fatalf("screenshot %s failed", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.T.Fatal(err)
	}
	b.mu.Lock()
	b.shots++
	n := b.shots
	b.mu.Unlock()
	path := filepath.Join(dir, fmt.Sprintf("%s-%02d-%s.png", b.Name, n, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.T.Fatal(err)
	}
}

// screenshot is a PNG of the whole page, or nil.
func (b *Browser) screenshot() []byte {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return nil
	}
	return png
}

// Console returns what the pages wrote to the console so far: calls of the
// console API, uncaught exceptions and the browser's own log (where CSP
// violations go).
func (b *Browser) Console() []chromedp.ConsoleMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), b.console...)
}

// cspViolation matches Chromium's console report of a Content Security
// Policy violation.
var cspViolation = regexp.MustCompile(`(?i)content security policy|refused to (load|execute|apply|connect|frame|run)`)

// CSPViolations returns the console messages that report a Content
// Security Policy violation.
func (b *Browser) CSPViolations() []string {
	var out []string
	for _, m := range b.Console() {
		if m.Source == "security" || cspViolation.MatchString(m.Text) {
			out = append(out, fmt.Sprintf("%s (%s %s)", m.Text, m.Source, m.URL))
		}
	}
	return out
}

// Cookies returns the browser's cookies for url.
func (b *Browser) Cookies(url string) []*network.Cookie {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	if err != nil {
		b.T.Fatalf("read the cookies of %s: %v", url, err)
	}
	return res.Cookies
}

// Fetch GETs url with net/http, carrying the browser's cookies for it, as a
// download by the browser would; it returns the status, the headers and the
// body.
func (b *Browser) Fetch(url string) (int, http.Header, []byte) {
	b.T.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.T.Fatal(err)
	}
	for _, c := range b.Cookies(url) {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	client := &http.Client{Timeout: StepTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Do(req)
	if err != nil {
		b.T.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.T.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header, body
}

// keepFailure saves the page, its HTML and the console where a person
// looking into a failed test finds them.
func (b *Browser) keepFailure() {
	dir, err := artefactDir(b.T)
	if err != nil {
		b.T.Logf("no folder for the failure's screenshot: %v", err)
		return
	}
	if png := b.screenshot(); png != nil {
		_ = os.WriteFile(filepath.Join(dir, "page.png"), png, 0o644)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if doc, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "page.html"), []byte(doc), 0o644)
	}
	var console strings.Builder
	for _, m := range b.Console() {
		fmt.Fprintf(&console, "%s %s [%s] %s\n", m.Time.Format(time.RFC3339Nano), m.Type, m.Source, m.Text)
	}
	_ = os.WriteFile(filepath.Join(dir, "console.txt"), []byte(console.String()), 0o644)
	b.T.Logf("the failed page (%s) is kept in %s", b.location(), dir)
}

// artefactDir is where a failed test keeps its files: t.ArtifactDir() when
// `go test -artifacts` keeps them, else a folder of its own under the
// system's temporary folder, which is not removed.
func artefactDir(t testing.TB) (string, error) {
	if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
		if at, ok := t.(interface{ ArtifactDir() string }); ok {
			return at.ArtifactDir(), nil
		}
	}
	dir := filepath.Join(os.TempDir(), "citizenpay-browsertest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(dir, fileName(t.Name())+"-")
}

// fileName turns a test's name into a file name.
func fileName(s string) string {
	return strings.Trim(regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(s, "_"), "_")
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// xpathString quotes s for XPath 1.0, which has no escapes.
func xpathString(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	if !strings.Contains(s, `'`) {
		return `'` + s + `'`
	}
	parts := strings.Split(s, `"`)
	return `concat("` + strings.Join(parts, `", '"', "`) + `")`
}
