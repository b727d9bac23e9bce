package devissuer

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxParamLength bounds state and nonce.
const maxParamLength = 512

// authRequest is a validated authorization request (OIDC Core §3.1.2.1).
type authRequest struct {
	client        registeredClient
	redirectURI   string
	scope         string
	state         string
	nonce         string
	codeChallenge string
	responseMode  string
}

// authError is an OAuth 2.0 error (RFC 6749 §4.1.2.1).
type authError struct {
	code        string
	description string
}

// authRequestParams are the parameters the page carries from the GET to its
// POST, in this order.
var authRequestParams = []string{
	"client_id", "redirect_uri", "response_type", "response_mode", "scope",
	"state", "nonce", "code_challenge", "code_challenge_method",
}

// parseAuthRequest validates an authorization request. When the client or
// the redirect URI is not known, redirectable is false: the error goes on a
// page, never to the URI given.
func (p *Provider) parseAuthRequest(q url.Values) (req authRequest, aerr *authError, redirectable bool) {
	single := func(name string) (string, bool) {
		v := q[name]
		if len(v) > 1 {
			return "", false
		}
		if len(v) == 0 {
			return "", true
		}
		return v[0], true
	}
	clientID, ok := single("client_id")
	if !ok {
		return req, &authError{"invalid_request", "client_id given more than once"}, false
	}
	client, known := p.clients[clientID]
	if !known {
		return req, &authError{"invalid_request", "unknown client_id"}, false
	}
	redirectURI, ok := single("redirect_uri")
	if !ok || redirectURI == "" || !slices.Contains(client.redirectURIs, redirectURI) {
		return req, &authError{"invalid_request", "redirect_uri missing or not one registered for this client"}, false
	}
	// The state as sent, even malformed, goes back with an error so that the
	// client can match it.
	req = authRequest{client: client, redirectURI: redirectURI, state: q.Get("state")}

	for _, name := range authRequestParams {
		if _, ok := single(name); !ok {
			return req, &authError{"invalid_request", name + " given more than once"}, true
		}
	}
	if q.Get("request") != "" {
		return req, &authError{"request_not_supported", "request objects are not supported"}, true
	}
	if q.Get("request_uri") != "" {
		return req, &authError{"request_uri_not_supported", "request_uri is not supported"}, true
	}
	if rt := q.Get("response_type"); rt != "code" {
		return req, &authError{"unsupported_response_type", "response_type must be code"}, true
	}
	req.responseMode = q.Get("response_mode")
	if req.responseMode != "" && req.responseMode != "query" {
		return req, &authError{"invalid_request", "response_mode must be query"}, true
	}
	req.scope = q.Get("scope")
	if !slices.Contains(strings.Fields(req.scope), "openid") {
		return req, &authError{"invalid_scope", "scope must contain openid"}, true
	}
	if !isVisibleASCII(req.state, maxParamLength) {
		return req, &authError{"invalid_request", "state is required (1 to 512 visible ASCII characters)"}, true
	}
	req.nonce = q.Get("nonce")
	if !isVisibleASCII(req.nonce, maxParamLength) {
		return req, &authError{"invalid_request", "nonce is required (1 to 512 visible ASCII characters)"}, true
	}
	if q.Get("code_challenge_method") != "S256" {
		return req, &authError{"invalid_request", "code_challenge_method must be S256"}, true
	}
	req.codeChallenge = q.Get("code_challenge")
	if len(req.codeChallenge) != 43 || !isBase64URL(req.codeChallenge) {
		return req, &authError{"invalid_request", "code_challenge is required: base64url of a SHA-256 digest, 43 characters"}, true
	}
	if slices.Contains(strings.Fields(q.Get("prompt")), "none") {
		return req, &authError{"login_required", "the tester must choose a citizen"}, true
	}
	return req, nil, true
}

// hidden returns the parameters the page's forms carry to their POST.
func (r authRequest) hidden() []field {
	fields := []field{
		{"client_id", r.client.id},
		{"redirect_uri", r.redirectURI},
		{"response_type", "code"},
		{"scope", r.scope},
		{"state", r.state},
		{"nonce", r.nonce},
		{"code_challenge", r.codeChallenge},
		{"code_challenge_method", "S256"},
	}
	if r.responseMode != "" {
		fields = append(fields, field{"response_mode", r.responseMode})
	}
	return fields
}

// field is a name and a value.
type field struct{ Name, Value string }

// serveAuthorize shows the sign-in page for a valid request.
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	req, aerr, redirectable := p.parseAuthRequest(r.URL.Query())
	if aerr != nil {
		p.refuse(w, r, req, aerr, redirectable)
		return
	}
	p.pages.signIn(w, http.StatusOK, p.signInView(req, enteredCitizen{LOA: "2"}, nil))
}

// serveSignIn handles the page's forms: a chosen citizen, a typed one, or
// cancel. The request's parameters come back as form fields and are checked
// again, as if they came from the client.
func (p *Provider) serveSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if err := r.ParseForm(); err != nil {
		p.pages.failure(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	form := r.PostForm
	req, aerr, redirectable := p.parseAuthRequest(form)
	if aerr != nil {
		p.refuse(w, r, req, aerr, redirectable)
		return
	}
	var c Citizen
	switch form.Get("action") {
	case "cancel":
		p.refuse(w, r, req, &authError{"access_denied", "the tester cancelled the sign-in"}, true)
		return
	case "choose":
		n, ok := p.chosenCitizen(form.Get("citizen"))
		if !ok {
			p.pages.signIn(w, http.StatusUnprocessableEntity, p.signInView(req, enteredCitizen{LOA: "2"},
				[]fieldError{{"citizen-0", "Choose one of the test citizens."}}))
			return
		}
		c = p.citizens[n]
	case "enter":
		entered := enteredCitizen{PID: form.Get("pid"), Name: form.Get("name"), Birthdate: form.Get("birthdate"), LOA: form.Get("loa")}
		var errs []fieldError
		c, errs = entered.citizen()
		if len(errs) > 0 {
			p.pages.signIn(w, http.StatusUnprocessableEntity, p.signInView(req, entered, errs))
			return
		}
	default:
		p.pages.failure(w, http.StatusBadRequest, "The form was not sent by this page.")
		return
	}
	now := p.now()
	code, err := p.codes.issue(grant{
		clientID: req.client.id, redirectURI: req.redirectURI, challenge: req.codeChallenge,
		nonce: req.nonce, citizen: c, authTime: now,
	}, now)
	if err != nil {
		p.refuse(w, r, req, &authError{"temporarily_unavailable", "too many sign-ins in progress; try again in a minute"}, true)
		return
	}
	p.redirect(w, r, req, url.Values{"code": {code}, "state": {req.state}})
}

// refuse sends an OAuth error to the client's redirect URI, or shows it on a
// page when the redirect URI cannot be trusted.
func (p *Provider) refuse(w http.ResponseWriter, r *http.Request, req authRequest, aerr *authError, redirectable bool) {
	if !redirectable {
		p.pages.failure(w, http.StatusBadRequest, "This sign-in request cannot be served: "+aerr.description+".")
		return
	}
	v := url.Values{"error": {aerr.code}, "error_description": {aerr.description}}
	if req.state != "" {
		v.Set("state", req.state)
	}
	p.redirect(w, r, req, v)
}

// redirect sends the browser to the request's redirect URI with params added
// to its own query (RFC 6749 §3.1.2: that query is kept).
func (p *Provider) redirect(w http.ResponseWriter, r *http.Request, req authRequest, params url.Values) {
	u, err := url.Parse(req.redirectURI)
	if err != nil {
		p.pages.failure(w, http.StatusInternalServerError, "The registered redirect URI is not a URL.")
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// chosenCitizen parses the index of an offered citizen.
func (p *Provider) chosenCitizen(v string) (int, bool) {
	for n := range p.citizens {
		if v == strconv.Itoa(n) {
			return n, true
		}
	}
	return 0, false
}

// isVisibleASCII reports whether s is 1 to max characters of %x20-7E.
func isVisibleASCII(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// isBase64URL reports whether s uses only the base64url alphabet, unpadded.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
