package wire

// ReceiptIssued is the receipt in a receipt.issued event (PROTOCOL.md §11):
// enough to fetch the whole receipt with GET …/receipt.
type ReceiptIssued struct {
	ID               string `json:"id"`
	Number           string `json:"number"`
	PaymentRequestID string `json:"payment_request_id"`
	Amount           string `json:"amount"`
	IssuedAt         string `json:"issued_at"`
}
