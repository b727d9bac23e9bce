package main

import (
	"errors"

	"github.com/citizenpay/gateway/internal/service"
)

// receiptService opens the database and the service's receipts, for the
// key commands.
func (e env) receiptService() (*service.Service, func(), error) {
	db, k, op, err := e.open(true)
	if err != nil {
		return nil, nil, err
	}
	return &service.Service{DB: db, Receipts: service.NewReceipts(k, op.PublicURL)}, db.Close, nil
}

// rotateReceiptKey runs `gatewayctl receipts rotate-key`: a new current
// signing key; the old ones stay in the JWKS, so their receipts verify.
// It prints {"kid"}.
func (e env) rotateReceiptKey(args []string) error {
	fs := newFlags("receipts rotate-key")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	svc, done, err := e.receiptService()
	if err != nil {
		return err
	}
	defer done()
	kid, err := svc.RotateReceiptKey(e.ctx)
	if err != nil {
		return err
	}
	return e.printJSON(map[string]string{"kid": kid})
}

// revokeReceiptKey runs `gatewayctl receipts revoke-key --kid K`: K leaves
// the JWKS at once and every receipt it signed is signed again, unchanged,
// with the current key, --batch receipts per transaction. It prints
// {"revoked","current","resigned"}. Interrupted, it is run again with the
// same kid: the key is revoked already, and what is left is re-signed.
func (e env) revokeReceiptKey(args []string) error {
	fs := newFlags("receipts revoke-key")
	kid := fs.String("kid", "", "the kid of the key to revoke")
	batch := fs.Int("batch", 200, "receipts signed again per transaction")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	if *kid == "" {
		return errors.New("--kid: the kid of the key to revoke is required")
	}
	if *batch < 1 || *batch > 10_000 {
		return errors.New("--batch: between 1 and 10000")
	}
	svc, done, err := e.receiptService()
	if err != nil {
		return err
	}
	defer done()
	rev, err := svc.RevokeReceiptKey(e.ctx, *kid, *batch)
	if err != nil {
		return err
	}
	return e.printJSON(map[string]any{"revoked": rev.KID, "current": rev.Current, "resigned": rev.Resigned})
}
