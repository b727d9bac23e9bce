package browsertest

import (
	"context"
	"io"
	"net/http"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

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
