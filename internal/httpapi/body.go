package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

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
