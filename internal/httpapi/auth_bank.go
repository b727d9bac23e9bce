package httpapi

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/signature"
)

// authenticateBank checks the signature of a bank's callback (PROTOCOL.md
// §3, §7) against the secrets of the bank its path names. An unknown bank
// is refused like a bad signature, so that the route does not tell which
// bank codes exist.
func (s *Server) authenticateBank(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	code := c.Param("bank_code")
	if bank.CheckCode(code) != nil {
		s.fail(c, mismatchRefusal(s.Now(), signature.FromRequest(c.Request, body)))
		return
	}
	_, ok := verifySigned(s, c, body, signer[*bank.Bank]{
		lookup: func(ctx context.Context, _ time.Time) (*bank.Bank, bool, error) {
			return s.Banks.Lookup(ctx, code)
		},
		reload: func(ctx context.Context, _ time.Time) (*bank.Bank, bool, error) {
			return s.Banks.Reload(ctx, code)
		},
		secrets:     (*bank.Bank).SigningSecrets,
		logRefusal:  true,
		hideUnknown: true,
	})
	if !ok {
		return
	}
	c.Set(ctxActor, "bank:"+code)
	c.Next()
}
