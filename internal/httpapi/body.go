package httpapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
)

// ctxBody keeps the body readBody read, for the handlers after it.
const ctxBody = "body"

// readBody reads the whole body once, refusing more than MaxBody bytes.
func readBody(c *gin.Context) ([]byte, error) {
	if v, ok := c.Get(ctxBody); ok {
		return v.([]byte), nil
	}
	if c.Request.ContentLength > MaxBody {
		return nil, fault.New(fault.PayloadTooLarge, "the body is over 64 KiB")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, MaxBody+1))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// A client trickling its body holds a connection: it gets its
		// answer and the connection is closed.
		c.Header("Connection", "close")
		return nil, fault.New(fault.InvalidRequest, "the body did not arrive in time")
	}
	if err != nil {
		return nil, fault.New(fault.InvalidRequest, "could not read the body")
	}
	bodyRead(c)
	if len(body) > MaxBody {
		return nil, fault.New(fault.PayloadTooLarge, "the body is over 64 KiB")
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	c.Set(ctxBody, body)
	return body, nil
}

// boundBody gives a request with a body BodyReadTimeout for it to arrive,
// whether or not its handler reads it (the server reads what is left to
// reuse the connection): a client sending its headers and then a byte at a
// time would otherwise hold its connection for the server's whole
// ReadTimeout.
func (s *Server) boundBody(c *gin.Context) {
	if s.BodyReadTimeout > 0 && c.Request.ContentLength != 0 {
		_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(s.BodyReadTimeout)) // a kernel deadline: the real clock
	}
	c.Next()
}

// bodyRead lifts the body's deadline once the whole body is in: what the
// handler does next is not the client's to hurry, and the server's
// background read (which notices a client hanging up) must not time out.
// The server sets the next request's deadlines itself.
func bodyRead(c *gin.Context) {
	_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Time{})
}
