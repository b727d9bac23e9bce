package browsertest

import (
	"github.com/citizenpay/gateway/internal/testenv"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestBrowserSeesWhatItChecks proves the browser's own checks can fail: a
// page whose inline script its CSP forbids (script-src 'self') shows up in CSPViolations, a
// page wider than the phone scrolls, and without JavaScript a script that
// would have changed the page did not run.
func TestBrowserSeesWhatItChecks(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "script-src 'self'")
		_, _ = w.Write([]byte(`<!doctype html><html lang="vi"><head><meta name="viewport" content="width=device-width, initial-scale=1"></head>` +
			`<body><main id="main" data-page="probe" data-status=""><div style="width:500px">rộng</div></main>` +
			`<script src="/app.js"></script><script>document.title = "inline"</script></body></html>`))
	}))
	t.Cleanup(srv.Close)

	t.Run("with JavaScript", func(t *testing.T) {
		t.Parallel()
		b := NewBrowser(t, WithViewport(Phone))
		b.Go(srv.URL)
		st := b.WaitPage("probe", "", StepTimeout)
		if st.Lang != "vi" {
			t.Errorf("lang = %q", st.Lang)
		}
		if !testenv.Poll(StepTimeout, func() bool { return len(b.CSPViolations()) > 0 }) {
			t.Errorf("an inline script under default-src 'self' raised no CSP violation; console: %v", b.Console())
		}
		if w, _ := strconv.Atoi(b.Eval(`document.scrollingElement.scrollWidth`)); w <= 360 {
			t.Errorf("a 500-px-wide block on a 360-px phone: scrollWidth = %d, want more than 360", w)
		}
	})
	t.Run("without JavaScript", func(t *testing.T) {
		t.Parallel()
		b := NewBrowser(t, WithoutJavaScript())
		b.Go(srv.URL)
		b.WaitPage("probe", "", StepTimeout)
		if title := b.Eval(`document.title`); title != `""` {
			t.Errorf("title = %s: a script ran", title)
		}
	})
}
