package wire_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/wire"
)

func TestRequestEventJSONIsTheEventsEncoding(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 30, 0, 0, time.FixedZone("ICT", 7*3600))
	snap := wire.PaymentRequest{ID: "pr_1", Status: "pending", Description: `Lệ phí "đặc biệt" <b>&`, Amount: "75000", Currency: "VND",
		Metadata: map[string]string{"office": "Q1"}}
	raw, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"evt_1", `evt_"quoted"\`} {
		want, err := json.Marshal(wire.Event{ID: id, Type: "payment_request.created", CreatedAt: wire.Time(at),
			Data: wire.EventData{PaymentRequest: &snap}})
		if err != nil {
			t.Fatal(err)
		}
		if got := wire.RequestEventJSON(id, "payment_request.created", at, raw); !bytes.Equal(got, want) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	}
}
