package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestListenReturnPage(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&listener{out: io.Discard, warn: io.Discard})
	t.Cleanup(srv.Close)
	get := func(query string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/return" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}

	resp, page := get("?tab=fee&payment_request_id=pr_01JQ5Z8W3K&status=paid")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("return page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`<dd id="payment_request_id">pr_01JQ5Z8W3K</dd>`, `<dd id="status">paid</dd>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s:\n%s", want, page)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers: CSP %q, Referrer-Policy %q", csp, resp.Header.Get("Referrer-Policy"))
	}

	// What comes back is shown as text, never as markup.
	_, page = get("?payment_request_id=%3Cscript%3Ealert(1)%3C/script%3E&status=%22%3E%3Cimg%20src=x%3E")
	if strings.Contains(page, "<script>") || strings.Contains(page, "<img") || !strings.Contains(page, "&lt;script&gt;") {
		t.Errorf("values not escaped:\n%s", page)
	}
	_, page = get("")
	if !strings.Contains(page, `<dd id="status">(none)</dd>`) {
		t.Errorf("a return without values:\n%s", page)
	}
	resp, err := http.Post(srv.URL+"/return", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /return: %d, want 405", resp.StatusCode)
	}
}
