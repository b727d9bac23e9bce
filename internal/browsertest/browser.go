package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
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
