package main

import (
	"html/template"
	"net/http"
	"unicode/utf8"
)

// returnPage is what the hosted checkout's way back lands on in
// development: the id and status the gateway added to the return URL,
// and a reminder that a portal acts on neither.
var returnPage = template.Must(template.New("return").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Back at the portal</title></head>
<body>
<h1>Back at the portal</h1>
<dl>
<dt>payment_request_id</dt><dd id="payment_request_id">{{.ID}}</dd>
<dt>status</dt><dd id="status">{{.Status}}</dd>
</dl>
<p>A portal does not act on this return: anyone can open this address. It waits for the webhook, or asks
<code>GET /v1/payment-requests/{{.ID}}</code>.</p>
</body>
</html>
`))

// maxReturnValue bounds what the page shows of each value.
const maxReturnValue = 100

// serveReturn shows the return page (GET /return).
func (l *listener) serveReturn(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	_ = returnPage.Execute(w, struct{ ID, Status string }{clip(q.Get("payment_request_id")), clip(q.Get("status"))})
}

// clip is s cut to maxReturnValue characters, or "(none)" when empty.
func clip(s string) string {
	switch {
	case s == "":
		return "(none)"
	case utf8.RuneCountInString(s) > maxReturnValue:
		return string([]rune(s)[:maxReturnValue]) + "…"
	}
	return s
}
