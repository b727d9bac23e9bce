package wire

import (
	"encoding/json"
	"time"
)

// RequestEventJSON is the JSON of an Event about a payment request alone,
// built around snapshot, the request's JSON already encoded: the same bytes
// json.Marshal gives for Event{ID: id, Type: typ, CreatedAt: Time(at),
// Data: EventData{PaymentRequest: …}}, without encoding the snapshot a
// second time for the event when the response has encoded it once.
func RequestEventJSON(id, typ string, at time.Time, snapshot json.RawMessage) []byte {
	b := make([]byte, 0, len(snapshot)+128)
	b = append(b, `{"id":`...)
	b = appendString(b, id)
	b = append(b, `,"type":`...)
	b = appendString(b, typ)
	b = append(b, `,"created_at":`...)
	b = appendString(b, Time(at))
	b = append(b, `,"data":{"payment_request":`...)
	b = append(b, snapshot...)
	return append(b, `}}`...)
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}
