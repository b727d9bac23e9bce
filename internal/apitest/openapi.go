package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/citizenpay/gateway/api"
)

// contract is api/openapi.yaml made ready to check traffic against.
type contract struct {
	doc    *openapi3.T
	router routers.Router
	server *url.URL // the document's server: requests are routed as if sent there
}

// loadContract loads the document once for the whole test binary.
var loadContract = sync.OnceValues(func() (*contract, error) {
	doc, err := loadDocument()
	if err != nil {
		return nil, err
	}
	closeResponseSchemas(doc)
	// The gateway's own pages (a receipt's verify page, §11) and their
	// stylesheet are text: checked as strings against their schemas.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/css", openapi3filter.PlainBodyDecoder)
	if len(doc.Servers) == 0 {
		return nil, errors.New("api/openapi.yaml: no servers")
	}
	server, err := url.Parse(doc.Servers[0].URL)
	if err != nil {
		return nil, fmt.Errorf("api/openapi.yaml: server URL: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("api/openapi.yaml: build router: %w", err)
	}
	return &contract{doc: doc, router: router, server: server}, nil
})

// loadDocument parses and validates api/openapi.yaml as written: no external
// references, and a valid OpenAPI document.
func loadDocument() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("api/openapi.yaml: load: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("api/openapi.yaml: invalid: %w", err)
	}
	return doc, nil
}

// closeResponseSchemas makes the tests stricter than the contract. The
// document leaves response objects open, because clients must ignore fields
// they do not know (PROTOCOL.md: the contract changes only by adding); but a
// field the gateway sends and the document does not describe is drift, so
// here every object schema reachable from a response or a webhook gets
// additionalProperties: false unless it says otherwise, and every schema
// built with allOf/anyOf/oneOf gets unevaluatedProperties: false. Inline
// composition members (such as {properties: {status: {const: 400}}} next to
// a $ref) only narrow a complete schema, so they are left open.
func closeResponseSchemas(doc *openapi3.T) {
	c := schemaCloser{seen: map[*openapi3.Schema]bool{}, partial: map[*openapi3.Schema]bool{}}
	var roots []*openapi3.SchemaRef
	collect := func(content openapi3.Content) {
		for _, mt := range content {
			if mt != nil && mt.Schema != nil {
				roots = append(roots, mt.Schema)
			}
		}
	}
	operations := func(item *openapi3.PathItem, webhook bool) {
		for _, op := range item.Operations() {
			if webhook && op.RequestBody != nil && op.RequestBody.Value != nil {
				collect(op.RequestBody.Value.Content)
			}
			if op.Responses == nil {
				continue
			}
			for _, r := range op.Responses.Map() {
				if r != nil && r.Value != nil {
					collect(r.Value.Content)
				}
			}
		}
	}
	for _, item := range doc.Paths.Map() {
		operations(item, false)
	}
	for _, item := range doc.Webhooks {
		operations(item, true)
	}
	for _, r := range roots {
		c.mark(r)
	}
	for s := range c.seen {
		if c.partial[s] {
			continue
		}
		if len(s.AllOf)+len(s.AnyOf)+len(s.OneOf) > 0 {
			if holdsObjects(s) && s.UnevaluatedProperties.Has == nil && s.UnevaluatedProperties.Schema == nil {
				s.UnevaluatedProperties.Has = openapi3.Ptr(false)
			}
			continue
		}
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil &&
			s.UnevaluatedProperties.Has == nil && s.UnevaluatedProperties.Schema == nil {
			s.AdditionalProperties.Has = openapi3.Ptr(false)
		}
	}
}

// holdsObjects reports whether a composed schema describes objects: whether
// it or one of its members declares properties.
func holdsObjects(s *openapi3.Schema) bool {
	if len(s.Properties) > 0 {
		return true
	}
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, m := range group {
			if m != nil && m.Value != nil && holdsObjects(m.Value) {
				return true
			}
		}
	}
	return false
}

type schemaCloser struct {
	seen    map[*openapi3.Schema]bool
	partial map[*openapi3.Schema]bool // inline allOf/anyOf/oneOf members
}

func (c *schemaCloser) mark(ref *openapi3.SchemaRef) {
	if ref == nil || ref.Value == nil || c.seen[ref.Value] {
		return
	}
	s := ref.Value
	c.seen[s] = true
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, m := range group {
			if m != nil && m.Ref == "" && m.Value != nil {
				c.partial[m.Value] = true
			}
			c.mark(m)
		}
	}
	for _, p := range s.Properties {
		c.mark(p)
	}
	c.mark(s.Items)
	c.mark(s.AdditionalProperties.Schema)
	for _, p := range s.PrefixItems {
		c.mark(p)
	}
}

// maxShown caps the body quoted in a failure.
const maxShown = 2048

func shown(b []byte) string {
	if len(b) > maxShown {
		return string(b[:maxShown]) + "…"
	}
	return string(b)
}

// ValidateExchange checks a request and its response against
// api/openapi.yaml. Every exchange must be described by the document. The
// request is checked only when the gateway accepted it (2xx): tests send
// invalid requests on purpose and expect problems. The response is always
// checked: its status must be listed for the operation, its headers and body
// must match, problems included. An exchange on a path or method the
// document does not describe passes only as a 404 not_found problem (what
// the router answers for it).
//
// body is the request body as sent: the client has consumed req.Body by now,
// and its transport may still close it, so req is left untouched and the
// checks read a clone of it carrying body.
func ValidateExchange(t testing.TB, req *http.Request, body []byte, res *Response) {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Errorf("openapi: %v", err)
		return
	}
	if err := c.check(req, body, res); err != nil {
		t.Errorf("openapi: %s %s → %d does not match api/openapi.yaml: %v\nrequest body: %s\nresponse body: %s",
			req.Method, req.URL.RequestURI(), res.Status, err, shown(body), shown(res.Body))
	}
}

// check returns what is wrong with the exchange, or nil.
func (c *contract) check(req *http.Request, body []byte, res *Response) error {
	ctx := context.Background()
	r := req.Clone(ctx)
	r.URL.Scheme, r.URL.Host, r.Host = c.server.Scheme, c.server.Host, c.server.Host
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))

	route, params, err := c.router.FindRoute(r)
	if err != nil {
		if res.Status == http.StatusNotFound {
			return c.checkNoRoute(res)
		}
		return fmt.Errorf("the operation is not described (%v)", err)
	}
	reqOpts := &openapi3filter.Options{
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		MultiError:          true,
		SkipSettingDefaults: true,
	}
	reqOpts.WithCustomSchemaErrorFunc(schemaErrorMessage)
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: reqOpts}
	if res.Status >= 200 && res.Status < 300 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("the request was accepted but is not valid: %w", err)
		}
	}
	resOpts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	resOpts.WithCustomSchemaErrorFunc(schemaErrorMessage)
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.Status, Header: res.Header, Options: resOpts}
	out.SetBodyBytes(res.Body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	return nil
}

// schemaErrorMessage says where and what, without the whole schema and
// value kin-openapi would print (the body is quoted once, after).
func schemaErrorMessage(err *openapi3.SchemaError) string {
	reason := err.Reason
	if first, rest, ok := strings.Cut(reason, "\n"); ok && strings.HasPrefix(first, "jsonschema validation failed") {
		reason = rest
	}
	if ptr := err.JSONPointer(); len(ptr) > 0 {
		return "at /" + strings.Join(ptr, "/") + ": " + reason
	}
	return reason
}

// checkNoRoute accepts the router's answer to a path or method the document
// does not describe: a 404 not_found problem with a request id.
func (c *contract) checkNoRoute(res *Response) error {
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		return fmt.Errorf("the operation is not described, and its 404 is not a problem (Content-Type %q)", ct)
	}
	if res.Header.Get("X-Request-Id") == "" {
		return errors.New("the operation is not described, and its 404 has no X-Request-Id")
	}
	return c.validateSchema("NotFoundProblem", res.Body)
}

// validateSchema checks a JSON body against a named component schema.
func (c *contract) validateSchema(name string, body []byte) error {
	ref := c.doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("no schema %s in api/openapi.yaml", name)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	if err := ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors(), openapi3.VisitAsResponse(),
		openapi3.SetSchemaErrorMessageCustomizer(schemaErrorMessage)); err != nil {
		return fmt.Errorf("body does not match %s: %w", name, err)
	}
	return nil
}

// ValidateWebhook checks a webhook delivery the gateway made to a portal
// against the document's webhooks: the Standard Webhooks headers are present
// and the body matches the schema of the event's type.
func ValidateWebhook(t testing.TB, header http.Header, body []byte) {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Errorf("openapi: %v", err)
		return
	}
	if err := c.checkWebhook(header, body); err != nil {
		t.Errorf("openapi: webhook does not match api/openapi.yaml: %v\nbody: %s", err, shown(body))
	}
}

func (c *contract) checkWebhook(header http.Header, body []byte) error {
	var ev struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return fmt.Errorf("body is not a JSON event: %w", err)
	}
	item := c.doc.Webhooks[ev.Type]
	if item == nil || item.Post == nil {
		return fmt.Errorf("event type %q is not described", ev.Type)
	}
	op := item.Post
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInHeader && p.Value.Required && header.Get(p.Value.Name) == "" {
			return fmt.Errorf("header %s is missing", p.Value.Name)
		}
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return fmt.Errorf("webhook %s has no JSON schema", ev.Type)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	if err := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors(),
		openapi3.SetSchemaErrorMessageCustomizer(schemaErrorMessage)); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	return nil
}
