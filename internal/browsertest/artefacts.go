package browsertest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

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
