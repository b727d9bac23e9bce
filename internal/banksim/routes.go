package banksim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/citizenpay/gateway/internal/signature"
)

// maxBody is the body limit of PROTOCOL §1.
const maxBody = 64 << 10

func (s *Server) routes() http.Handler {
	base := s.cfg.BasePath
	api := http.NewServeMux()
	api.HandleFunc("POST "+base+"/v1/account-verifications", s.handleVerification)
	api.HandleFunc("POST "+base+"/v1/debits", s.handleDebit)
	api.HandleFunc("POST "+base+"/v1/refunds", s.handleRefund)
	api.HandleFunc("GET "+base+"/v1/debits/{id}", s.handleStatus(kindDebit))
	api.HandleFunc("GET "+base+"/v1/refunds/{id}", s.handleStatus(kindRefund))
	api.HandleFunc("GET "+base+"/v1/statements", s.handleStatement)
	api.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, http.StatusNotFound, "not_found", "No such route.")
	})

	root := http.NewServeMux()
	root.HandleFunc("GET /_sim/knobs", s.handleGetKnobs)
	root.HandleFunc("POST /_sim/knobs", s.handleSetKnobs)
	root.HandleFunc("GET /_sim/accounts/{number}", s.handleGetAccount)
	root.HandleFunc("GET /_sim/stats", s.handleGetStats)
	root.HandleFunc("/_sim/", func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, http.StatusNotFound, "not_found", "No such admin route.")
	})
	root.Handle("/", s.guard(api))
	return root
}

// knobsKey carries, in a request's context, the knobs it arrived under.
type knobsKey struct{}

func knobsFrom(ctx context.Context) Knobs {
	k, _ := ctx.Value(knobsKey{}).(Knobs)
	return k
}

// guard stands before every route of the bank's API: it plays Down, adds
// Latency, requires a valid signature and plays FailureRate.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := s.Knobs()
		if k.Down {
			s.drop(w)
			return
		}
		w = &delayedWriter{ResponseWriter: w, ctx: r.Context(), delay: k.Latency}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
				writeProblem(w, http.StatusRequestEntityTooLarge, "payload_too_large", "The body is over 64 KiB.")
				return
			}
			writeProblem(w, http.StatusBadRequest, "invalid_request", "The body could not be read.")
			return
		}
		msg := signature.FromRequest(r, body)
		if err := signature.Verify(r.Header.Get(signature.HeaderSignature), []string{s.cfg.Secret}, msg, s.now()); err != nil {
			s.stats.update(func(st *Stats) { st.Unauthorized++ })
			s.log.Warn("refused unsigned request", "method", r.Method, "error", err)
			writeProblem(w, http.StatusUnauthorized, "invalid_signature", "The request signature is missing or wrong.")
			return
		}
		s.stats.update(func(st *Stats) { st.Requests++ })
		if roll(k.FailureRate) {
			s.stats.update(func(st *Stats) { st.InjectedFailures++ })
			writeProblem(w, http.StatusInternalServerError, "simulated_failure", "The sandbox bank failed before doing anything.")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), knobsKey{}, k)))
	})
}

// drop closes the connection without an answer, as a bank that is down
// does. Where the connection cannot be taken over, it answers 503.
func (s *Server) drop(w http.ResponseWriter) {
	s.stats.update(func(st *Stats) { st.Dropped++ })
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		writeProblem(w, http.StatusServiceUnavailable, "unavailable", "The sandbox bank is down.")
		return
	}
	_ = conn.Close()
}

// roll reports true with probability p.
func roll(p float64) bool { return p > 0 && rand.Float64() < p }

// delayedWriter waits delay before the answer's first byte.
type delayedWriter struct {
	http.ResponseWriter
	ctx    context.Context
	delay  time.Duration
	waited bool
}

func (w *delayedWriter) wait() {
	if !w.waited {
		w.waited = true
		sleep(w.ctx, w.delay)
	}
}

// WriteHeader waits, then writes the status.
func (w *delayedWriter) WriteHeader(code int) {
	w.wait()
	w.ResponseWriter.WriteHeader(code)
}

// Write waits, then writes b.
func (w *delayedWriter) Write(b []byte) (int, error) {
	w.wait()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *delayedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// sleep waits d or until ctx ends, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// problem is an RFC 9457 body.
type problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Code   string       `json:"code"`
	Errors []fieldError `json:"errors,omitempty"`
}

type fieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeProblem(w http.ResponseWriter, status int, code, detail string, errs ...fieldError) {
	writeBody(w, status, "application/problem+json", problem{
		Type: "about:blank", Title: http.StatusText(status), Status: status,
		Detail: detail, Code: code, Errors: errs,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeBody(w, status, "application/json", v)
}

func writeBody(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"status":500,"code":"internal"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
