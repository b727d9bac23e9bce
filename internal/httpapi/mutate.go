package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/idempotency"
	"github.com/citizenpay/gateway/internal/postgres"
)

// decode reads the JSON body into v strictly: unknown fields and wrong
// types are refused with invalid_request.
func decode(c *gin.Context, v any) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return fault.New(fault.InvalidRequest, "the body must be a JSON object")
	}
	if err := exactFields(body, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field == "":
			return fault.New(fault.InvalidRequest, "the body must be a JSON object")
		case errors.As(err, &typeErr):
			return fault.Field(fault.InvalidRequest, typeErr.Field, typeErr.Field+" has the wrong type")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return fault.Field(fault.InvalidRequest, name, "unknown field "+name)
		default:
			return fault.New(fault.InvalidRequest, "the body is not valid JSON")
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fault.New(fault.InvalidRequest, "the body holds more than one JSON value")
	}
	return nil
}

// mutation is the guarded part of a mutating request: it runs in tx and
// returns the status and the value to send.
type mutation func(ctx context.Context, tx *postgres.Tx) (int, any, error)

// idempotencyKey checks the key header before any work.
func idempotencyKey(c *gin.Context) (string, error) {
	key := c.GetHeader("Idempotency-Key")
	return key, idempotency.CheckKey(key)
}

// mutate runs m exactly once for the caller's scope and Idempotency-Key and
// writes the (possibly replayed) response. Validation must be done before:
// refusals of malformed input store nothing.
func (s *Server) mutate(c *gin.Context, scope, key string, m mutation) {
	s.guarded(c, scope, key, m, s.Guard.Do)
}

// mutateAtCommit is mutate for a mutation whose writes are all held back
// for COMMIT (a create): the key's record goes with them in one round trip
// (idempotency.Guard.DoAtCommit).
func (s *Server) mutateAtCommit(c *gin.Context, scope, key string, m mutation) {
	s.guarded(c, scope, key, m, s.Guard.DoAtCommit)
}

type guardFunc func(context.Context, idempotency.Claim, idempotency.Op, idempotency.Render) (idempotency.Response, bool, error)

func (s *Server) guarded(c *gin.Context, scope, key string, m mutation, guard guardFunc) {
	body, err := readBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	fp, err := idempotency.Fingerprint(s.FingerprintKey, c.Request.Method, c.Request.URL.Path, body)
	if err != nil {
		s.fail(c, fault.New(fault.InvalidRequest, "the body is not valid JSON"))
		return
	}
	rid := requestID(c)
	claim := idempotency.Claim{Scope: scope, Key: key, Fingerprint: fp}
	op := func(ctx context.Context, tx *postgres.Tx) (idempotency.Response, error) {
		status, v, err := m(ctx, tx)
		if err != nil {
			return idempotency.Response{}, err
		}
		if raw, ok := v.(json.RawMessage); ok { // encoded already
			return idempotency.Response{Status: status, Body: raw}, nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return idempotency.Response{}, err
		}
		return idempotency.Response{Status: status, Body: b}, nil
	}
	render := func(err error) (idempotency.Response, bool) {
		if !decidedOnState(err) {
			return idempotency.Response{}, false
		}
		status, b := problemFor(err, rid, s.problemTypeBase())
		return idempotency.Response{Status: status, Body: b}, true
	}
	resp, replayed, err := guard(c.Request.Context(), claim, op, render)
	if err != nil {
		s.fail(c, err)
		return
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	ct := "application/json"
	if resp.Status >= 400 {
		ct = "application/problem+json"
	}
	c.Data(resp.Status, ct, resp.Body)
}
