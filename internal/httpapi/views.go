package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/postgres"
)

// requestViews keeps the JSON of payment requests by id and version, for
// lists. A request's JSON is a function of its row, and every change to the
// row is a new version (postgres.SavePaymentRequest insists), so an entry is
// never stale: a list reads ids and versions with its rows and decodes and
// encodes only the requests it has not seen in that version. Decoding a
// request's items and encoding it again cost most of a list's time.
type requestViews struct {
	mu  sync.RWMutex
	m   map[string]requestView
	max int
}

type requestView struct {
	version int
	body    []byte
}

// maxRequestViews bounds the entries kept: a few megabytes (about 700 bytes
// for a request of two items), filled within a minute of a busy day.
const maxRequestViews = 4096

func newRequestViews(max int) *requestViews {
	return &requestViews{m: make(map[string]requestView, max), max: max}
}

func (v *requestViews) get(id string, version int) ([]byte, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	e, ok := v.m[id]
	if !ok || e.version != version {
		return nil, false
	}
	return e.body, true
}

func (v *requestViews) put(id string, version int, body []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e, ok := v.m[id]; ok && e.version > version {
		return // a newer version is kept already
	}
	if _, ok := v.m[id]; !ok && len(v.m) >= v.max {
		// Full: forget an eighth of the entries, whichever the map yields.
		n := v.max / 8
		for k := range v.m {
			if n <= 0 {
				break
			}
			delete(v.m, k)
			n--
		}
	}
	v.m[id] = requestView{version: version, body: body}
}

// writeRequestPage answers a page of listed requests, encoding only those
// not seen before in their version.
func (s *Server) writeRequestPage(c *gin.Context, f postgres.RequestFilter) error {
	seen := map[string][]byte{}
	known := func(id string, version int) bool {
		b, ok := s.views.get(id, version)
		if ok {
			seen[id] = b
		}
		return ok
	}
	listed, more, err := s.Service.ListPaymentRequests(c.Request.Context(), f, known)
	if err != nil {
		return err
	}
	// The page is written as wire.List would encode it, with each request's
	// JSON as kept: encoding/json would only check each one again.
	buf := make([]byte, 0, 64+len(listed)*1024)
	buf = append(buf, `{"data":[`...)
	for i, l := range listed {
		b, ok := seen[l.ID]
		switch {
		case l.Request != nil: // not known in this version: read, so encoded and kept
			if b, err = json.Marshal(s.requestView(l.Request)); err != nil {
				return err
			}
			s.views.put(l.ID, l.Version, b)
		case !ok:
			return fmt.Errorf("payment request %s vanished from its list", l.ID)
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, b...)
	}
	buf = append(buf, `],"next_cursor":`...)
	if more && len(listed) > 0 {
		cur, err := json.Marshal(encodeCursor("pr", listed[len(listed)-1].ID))
		if err != nil {
			return err
		}
		buf = append(buf, cur...)
	} else {
		buf = append(buf, "null"...)
	}
	buf = append(buf, '}')
	// With its length known the body goes out in one write, not in chunks.
	c.Header("Content-Length", strconv.Itoa(len(buf)))
	c.Data(http.StatusOK, "application/json; charset=utf-8", buf)
	return nil
}
