package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/testenv"
)

// ict is the offset of the portals' business day (Asia/Ho_Chi_Minh).
var ict = time.FixedZone("ICT", 7*3600)

// at writes t as a query value: RFC 3339 in ICT, to the nanosecond.
func at(t time.Time) string { return url.QueryEscape(t.In(ict).Format(time.RFC3339Nano)) }

// listAll follows a list's cursors with the same query, limit=1, and
// returns the ids in the order listed. Every page but the last has a cursor.
func listAll(t *testing.T, h *apitest.Harness, p *portal.Portal, query string) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for range 50 {
		path := "/v1/payment-requests?limit=1&" + query
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		r := h.Do(apitest.Request{Method: http.MethodGet, Path: path, Portal: p})
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		r.JSON(t, &page)
		if len(page.Data) > 1 {
			t.Fatalf("%s: %d items with limit=1", path, len(page.Data))
		}
		for _, d := range page.Data {
			ids = append(ids, d.ID)
		}
		if page.NextCursor == nil {
			return ids
		}
		if len(page.Data) == 0 {
			t.Fatalf("%s: an empty page with a cursor", path)
		}
		cursor = *page.NextCursor
	}
	t.Fatalf("%s: more than 50 pages", query)
	return nil
}

// stamp reads a request's time as stored, to the microsecond (the answers
// show seconds): the boundaries are tested on it exactly.
func stamp(t *testing.T, h *apitest.Harness, column, prID string) time.Time {
	t.Helper()
	if column != "created_at" && column != "updated_at" && column != "paid_at" {
		t.Fatalf("no column %s", column)
	}
	var ts time.Time
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT `+column+` FROM payment_requests WHERE id = $1`, prID).Scan(&ts); err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestListFiltersByCreatedAndUpdated(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock()
	h := apitest.New(t, apitest.WithClock(clock))
	other := h.NewPortal("Other portal")
	// The business day under test: tomorrow in ICT, from midnight to midnight.
	now := h.Now().In(ict)
	day := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, ict)
	next := day.Add(24 * time.Hour)

	create := func(p *portal.Portal, dossier string) string {
		t.Helper()
		b := createBody(dossier)
		b["expires_at"] = h.Now().Add(7 * 24 * time.Hour).Format(time.RFC3339Nano) // outlives the clock's moves
		r := h.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/payment-requests", Body: apitest.Marshal(t, b),
			IdempotencyKey: "create-" + dossier, Portal: p})
		if r.Status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", dossier, r.Status, r.Body)
		}
		return r.Map(t)["id"].(string)
	}
	clock.AdvanceTo(day.Add(-time.Hour))
	before := create(h.Portal, "BEFORE")
	clock.AdvanceTo(day)
	first := create(h.Portal, "FIRST")
	otherFirst := create(other, "OTHER-FIRST")
	clock.AdvanceTo(day.Add(12 * time.Hour))
	mid := create(h.Portal, "MID")
	clock.AdvanceTo(day.Add(23 * time.Hour))
	late := create(h.Portal, "LATE")
	otherLate := create(other, "OTHER-LATE")
	clock.AdvanceTo(next)
	after := create(h.Portal, "AFTER")
	// FIRST changes a day later: its updated_at leaves the day, its created_at stays.
	clock.AdvanceTo(next.Add(6 * time.Hour))
	if r := h.Post("/v1/payment-requests/"+first+"/cancel", "cancel-first", nil); r.Status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}

	midAt := stamp(t, h, "created_at", mid)
	firstUpdated := stamp(t, h, "updated_at", first)
	const µs, ns = time.Microsecond, time.Nanosecond
	cases := []struct {
		name  string
		query string
		want  []string // newest first
	}{
		{"the business day", "created_from=" + at(day) + "&created_to=" + at(next), []string{late, mid, first}},
		{"the same day in UTC offsets", "created_from=" + url.QueryEscape(day.UTC().Format(time.RFC3339)) +
			"&created_to=" + url.QueryEscape(next.UTC().Format(time.RFC3339)), []string{late, mid, first}},
		{"from only", "created_from=" + at(next), []string{after}},
		{"to only", "created_to=" + at(day), []string{before}},
		{"from is inclusive", "created_from=" + at(midAt), []string{after, late, mid}},
		{"a microsecond later leaves it out", "created_from=" + at(midAt.Add(µs)), []string{after, late}},
		{"a nanosecond later leaves it out", "created_from=" + at(midAt.Add(ns)), []string{after, late}},
		{"to is exclusive", "created_to=" + at(midAt), []string{first, before}},
		{"a microsecond later takes it in", "created_to=" + at(midAt.Add(µs)), []string{mid, first, before}},
		{"a nanosecond later takes it in", "created_to=" + at(midAt.Add(ns)), []string{mid, first, before}},
		{"updated on the next day", "updated_from=" + at(next), []string{after, first}},
		{"updated_from is inclusive", "updated_from=" + at(firstUpdated), []string{first}},
		{"updated_to is exclusive", "updated_from=" + at(next) + "&updated_to=" + at(firstUpdated), []string{after}},
		{"updated_to a microsecond later", "updated_from=" + at(firstUpdated) + "&updated_to=" + at(firstUpdated.Add(µs)), []string{first}},
		{"created in the day and updated after it", "created_from=" + at(day) + "&created_to=" + at(next) +
			"&updated_from=" + at(next), []string{first}},
		{"created in the day and updated in it", "created_from=" + at(day) + "&created_to=" + at(next) +
			"&updated_from=" + at(day) + "&updated_to=" + at(next), []string{late, mid}},
		{"with a status", "status=pending&created_from=" + at(day) + "&created_to=" + at(next), []string{late, mid}},
		{"with a status it leaves one of", "status=canceled&created_from=" + at(day) + "&created_to=" + at(next), []string{first}},
		{"with a dossier", "dossier_code=MID&created_from=" + at(day) + "&created_to=" + at(next), []string{mid}},
		{"with a dossier outside the range", "dossier_code=AFTER&created_from=" + at(day) + "&created_to=" + at(next), nil},
		{"from the zero time", "created_from=0001-01-01T00:00:00Z", []string{after, late, mid, first, before}},
		{"before the zero time", "created_to=0001-01-01T00:00:00Z", nil},
		{"never paid", "paid_from=" + at(day.Add(-48*time.Hour)), nil},
	}
	for _, c := range cases {
		if got := listAll(t, h, h.Portal, c.query); !slices.Equal(got, c.want) {
			t.Errorf("%s (%s): listed %v, want %v", c.name, c.query, got, c.want)
		}
	}
	// The other portal's requests of the day are never this portal's, and
	// its own list of the day holds only them.
	dayQuery := "created_from=" + at(day) + "&created_to=" + at(next)
	if got, want := listAll(t, h, other, dayQuery), []string{otherLate, otherFirst}; !slices.Equal(got, want) {
		t.Errorf("the other portal's day: %v, want %v", got, want)
	}
	if got := listAll(t, h, other, "created_from="+at(midAt)+"&updated_to="+at(next.Add(time.Hour))); !slices.Equal(got, []string{otherLate}) {
		t.Errorf("the other portal's afternoon: %v, want [%s]", got, otherLate)
	}

	// The cursor is a position in the newest-first order, whatever the
	// filters: a cursor taken from the day's list, given with another
	// filter, continues that filter's list from the same position.
	var page struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
		NextCursor *string `json:"next_cursor"`
	}
	h.Get("/v1/payment-requests?limit=1&"+dayQuery).JSON(t, &page)
	if len(page.Data) != 1 || page.Data[0].ID != late || page.NextCursor == nil {
		t.Fatalf("the day's first page: %+v", page)
	}
	cursor := url.QueryEscape(*page.NextCursor)
	page.Data, page.NextCursor = nil, nil
	h.Get("/v1/payment-requests?limit=5&cursor="+cursor+"&created_to="+at(midAt)).JSON(t, &page)
	if len(page.Data) != 2 || page.Data[0].ID != first || page.Data[1].ID != before || page.NextCursor != nil {
		t.Fatalf("another filter from the day's cursor: %+v", page)
	}
}

func TestListFiltersByPaidAt(t *testing.T) {
	t.Parallel()
	p := newPayer(t, fastClearing("2s")...)
	h := p.h
	unpaid := p.newRequest(t, "FEE-UNPAID")
	if r := p.pay(t, p.prID, "pay"); r.Status != http.StatusAccepted {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	st := p.waitStatus(t, p.prID, "paid")
	paidAt := stamp(t, h, "paid_at", p.prID)
	if shown := st["payment"].(map[string]any)["paid_at"]; shown != paidAt.UTC().Format(time.RFC3339) {
		t.Fatalf("paid_at shown %v, stored %v", shown, paidAt)
	}
	created := stamp(t, h, "created_at", p.prID)
	cases := []struct {
		name  string
		query string
		want  []string
	}{
		{"paid_from is inclusive", "paid_from=" + at(paidAt), []string{p.prID}},
		{"a microsecond later leaves it out", "paid_from=" + at(paidAt.Add(time.Microsecond)), nil},
		{"paid_to is exclusive, and the unpaid are in no range", "paid_to=" + at(paidAt), nil},
		{"paid_to a microsecond later", "paid_to=" + at(paidAt.Add(time.Microsecond)), []string{p.prID}},
		{"an hour around it", "paid_from=" + at(paidAt.Add(-time.Hour)) + "&paid_to=" + at(paidAt.Add(time.Hour)), []string{p.prID}},
		{"with its status and creation", "status=paid&created_from=" + at(created) + "&created_to=" + at(created.Add(time.Microsecond)) +
			"&paid_from=" + at(paidAt.Add(-time.Hour)), []string{p.prID}},
		{"with another status", "status=pending&paid_from=" + at(paidAt.Add(-time.Hour)), nil},
		{"created in the hour, paid or not", "created_from=" + at(created.Add(-time.Hour)), []string{unpaid, p.prID}},
	}
	for _, c := range cases {
		if got := listAll(t, h, h.Portal, c.query); !slices.Equal(got, c.want) {
			t.Errorf("%s (%s): listed %v, want %v", c.name, c.query, got, c.want)
		}
	}
	other := h.NewPortal("Other portal")
	if got := listAll(t, h, other, "paid_from="+at(paidAt.Add(-time.Hour))); len(got) != 0 {
		t.Errorf("the other portal lists %v", got)
	}
}

func TestListTimeFilterRefusals(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	if r := h.Post("/v1/payment-requests", "create", createBody("R-1")); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	day := "2026-03-01T00:00:00%2B07:00"
	cases := []struct {
		query string
		field string
	}{
		{"created_from=yesterday", "created_from"},
		{"created_from=", "created_from"},
		{"created_to=2026-03-01T00:00:00", "created_to"},               // no offset
		{"created_to=2026-03-01", "created_to"},                        // a date alone
		{"updated_from=2026-03-01%2000:00:00Z", "updated_from"},        // a space for the T
		{"updated_to=2026-02-30T00:00:00Z", "updated_to"},              // no such day
		{"paid_from=2026-03-01T8:00:00Z", "paid_from"},                 // a one-digit hour
		{"paid_to=2026-03-01T00:00:00+07:00", "paid_to"},               // an unescaped +, read as a space
		{"paid_to=2026-03-01T00:00:00%2B24:00", "paid_to"},             // no such offset
		{"created_from=1772298000", "created_from"},                    // unix seconds
		{"created_from=" + day + "&created_to=" + day, "created_from"}, // an empty range
		{"updated_from=2026-03-02T00:00:00Z&updated_to=" + day, "updated_from"},
		{"paid_from=2026-03-01T00:00:00.000001Z&paid_to=2026-03-01T00:00:00Z", "paid_from"},
		{"created_from=" + day + "&created_from=" + day, "created_from"}, // given twice
		{"status=pending&paid_to=soon", "paid_to"},
		{"created_to=" + day + "&updated_to=later", "updated_to"},
	}
	for _, c := range cases {
		r := h.Get("/v1/payment-requests?" + c.query)
		var p struct {
			Code   string `json:"code"`
			Errors []struct {
				Field string `json:"field"`
				Code  string `json:"code"`
			} `json:"errors"`
		}
		r.JSON(t, &p)
		if r.Status != http.StatusBadRequest || p.Code != "invalid_request" || len(p.Errors) != 1 || p.Errors[0].Field != c.field ||
			!strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d %s, want 400 invalid_request naming %s", c.query, r.Status, r.Body, c.field)
		}
	}
	// A name near one of them is no filter: refused as unknown.
	if r := h.Get("/v1/payment-requests?created_after=" + day); r.Status != http.StatusBadRequest || r.Code() != "invalid_request" {
		t.Errorf("an unknown parameter: %d %s", r.Status, r.Body)
	}
}
