package httpapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/wire"
)

type listQuery struct {
	limit  int
	cursor string // decoded position
	params map[string]string
}

// parseQuery reads limit, cursor and the allowed filters; any other
// parameter, or a repeated one, is refused.
func parseQuery(c *gin.Context, cursorKind string, allowed ...string) (listQuery, error) {
	q := listQuery{limit: 20, params: map[string]string{}}
	ok := map[string]bool{"limit": true, "cursor": true}
	for _, a := range allowed {
		ok[a] = true
	}
	for name, vals := range c.Request.URL.Query() {
		if !ok[name] {
			return q, fault.Field(fault.InvalidRequest, name, "unknown query parameter "+name)
		}
		if len(vals) != 1 {
			return q, fault.Field(fault.InvalidRequest, name, name+" may be given once")
		}
		q.params[name] = vals[0]
	}
	if v, has := q.params["limit"]; has {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return q, fault.Field(fault.InvalidRequest, "limit", "limit must be an integer from 1 to 100")
		}
		q.limit = n
	}
	if v, has := q.params["cursor"]; has && v != "" {
		pos, err := decodeCursor(cursorKind, v)
		if err != nil {
			return q, err
		}
		q.cursor = pos
	}
	return q, nil
}

// timeRange reads the range name+"_from" (inclusive) to name+"_to"
// (exclusive), each an RFC 3339 date-time with its offset and either
// optional. A value that is not one, or a _from not before its _to, is
// refused naming the parameter.
func (q listQuery) timeRange(name string) (payment.TimeRange, error) {
	var r payment.TimeRange
	for _, end := range []struct {
		param string
		t     **time.Time
	}{{name + "_from", &r.From}, {name + "_to", &r.To}} {
		v, has := q.params[end.param]
		if !has {
			continue
		}
		t, err := wire.ParseTime(v)
		if err != nil {
			return r, fault.Field(fault.InvalidRequest, end.param,
				end.param+" must be an RFC 3339 date-time with an offset, such as 2026-03-01T00:00:00+07:00")
		}
		*end.t = &t
	}
	if err := r.Check(); err != nil {
		return r, fault.Field(fault.InvalidRequest, name+"_from", name+"_from must be before "+name+"_to")
	}
	return r, nil
}

func encodeCursor(kind, pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + pos))
}

func decodeCursor(kind, s string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	pos, ok := strings.CutPrefix(string(raw), kind+":")
	if err != nil || !ok || pos == "" {
		return "", fault.Field(fault.InvalidRequest, "cursor", "cursor is not one this list gave")
	}
	return pos, nil
}

// writePage answers a page of a list: items converted by to, and a cursor
// after the last one when more follow.
func writePage[T, W any](c *gin.Context, items []T, more bool, kind string, id func(T) string, to func(T) W) {
	out := wire.List[W]{Data: make([]W, 0, len(items))}
	for _, it := range items {
		out.Data = append(out.Data, to(it))
	}
	if more && len(items) > 0 {
		cur := encodeCursor(kind, id(items[len(items)-1]))
		out.NextCursor = &cur
	}
	c.JSON(http.StatusOK, out)
}
