package portal

import (
	"context"
	"net/http"
	"net/url"
)

// ListEvents returns the portal's events after cursor ("" for the first),
// in commit order, at most limit (0 for the gateway's default). A poller
// that keeps asking with NextCursor never misses an event; an empty page
// means none came since.
func (c *Client) ListEvents(ctx context.Context, cursor string, limit int, opts ...CallOption) (*EventPage, error) {
	var out EventPage
	if err := c.call(ctx, http.MethodGet, "/v1/events"+listQuery(url.Values{}, limit, cursor), nil, &out, opts...); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListSettlementsParams filters and pages the portal's settlements.
type ListSettlementsParams struct {
	// Date is a day, YYYY-MM-DD.
	Date   string
	Status string
	Limit  int
	Cursor string
}

// ListSettlements returns one page of the portal's settlements.
func (c *Client) ListSettlements(ctx context.Context, p ListSettlementsParams, opts ...CallOption) (*Page[Settlement], error) {
	q := url.Values{}
	if p.Date != "" {
		q.Set("date", p.Date)
	}
	if p.Status != "" {
		q.Set("status", p.Status)
	}
	var out page[Settlement]
	if err := c.call(ctx, http.MethodGet, "/v1/settlements"+listQuery(q, p.Limit, p.Cursor), nil, &out, opts...); err != nil {
		return nil, err
	}
	return out.public(), nil
}

// GetSettlement returns a settlement.
func (c *Client) GetSettlement(ctx context.Context, id string, opts ...CallOption) (*Settlement, error) {
	var out Settlement
	if err := c.call(ctx, http.MethodGet, "/v1/settlements/"+pathSegment(id), nil, &out, opts...); err != nil {
		return nil, err
	}
	return &out, nil
}

// SettlementLines returns one page of a settlement's payments and refunds.
func (c *Client) SettlementLines(ctx context.Context, id, cursor string, limit int, opts ...CallOption) (*Page[SettlementLine], error) {
	var out page[SettlementLine]
	target := "/v1/settlements/" + pathSegment(id) + "/lines" + listQuery(url.Values{}, limit, cursor)
	if err := c.call(ctx, http.MethodGet, target, nil, &out, opts...); err != nil {
		return nil, err
	}
	return out.public(), nil
}
