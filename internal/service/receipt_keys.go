package service

import (
	"context"
	"fmt"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/receipt"
)

// The receipt signing keys. The first one is made lazily, by the first
// transaction that issues a receipt (or by a rotation), under an advisory
// lock, so that no start-up step needs the master key in the database and
// two gateways never make two first keys. The current key is the newest
// not revoked; every key not revoked stays in the JWKS.

// currentReceiptKey returns the key to sign with in tx, making the first
// one if there is none. The key's row is share-locked until tx ends, so a
// revocation waits for the receipts being signed with it and then finds
// them to sign again.
func (s *Service) currentReceiptKey(ctx context.Context, tx *postgres.Tx) (*receipt.Key, error) {
	st, err := postgres.CurrentReceiptKey(ctx, tx)
	if err != nil {
		return nil, err
	}
	if st == nil {
		if err := postgres.LockReceiptKeys(ctx, tx); err != nil {
			return nil, err
		}
		// A key revoked or made meanwhile is seen now that the lock is held.
		if st, err = postgres.CurrentReceiptKey(ctx, tx); err != nil {
			return nil, err
		}
		if st == nil {
			return s.newReceiptKey(ctx, tx)
		}
	}
	return s.openReceiptKey(st)
}

func (s *Service) openReceiptKey(st *postgres.StoredReceiptKey) (*receipt.Key, error) {
	seed, err := s.Receipts.keys.Open(st.SeedSealed, []byte(st.KID))
	if err != nil {
		return nil, fmt.Errorf("open receipt key %s: %w", st.KID, err)
	}
	k, err := receipt.ParseKey(seed)
	if err != nil {
		return nil, fmt.Errorf("receipt key %s: %w", st.KID, err)
	}
	if k.KID() != st.KID {
		return nil, fmt.Errorf("receipt key %s: its seed is key %s's", st.KID, k.KID())
	}
	return k, nil
}

// newReceiptKey makes a key, which becomes the current one. The caller
// holds postgres.LockReceiptKeys.
func (s *Service) newReceiptKey(ctx context.Context, tx *postgres.Tx) (*receipt.Key, error) {
	if s.Receipts == nil {
		return nil, errNoReceipts
	}
	k, err := receipt.GenerateKey()
	if err != nil {
		return nil, err
	}
	st := &postgres.StoredReceiptKey{KID: k.KID(), SeedSealed: s.Receipts.keys.Seal(k.Bytes(), []byte(k.KID())),
		Public: k.Public().Bytes()}
	if err := postgres.InsertReceiptKey(ctx, tx, st); err != nil {
		return nil, err
	}
	return k, nil
}

// ReceiptJWKS is the document of /.well-known/receipt-keys: the public
// halves of every key not revoked.
func (s *Service) ReceiptJWKS(ctx context.Context) ([]byte, error) {
	keys, err := postgres.ReceiptKeys(ctx, s.DB, false)
	if err != nil {
		return nil, err
	}
	pubs := make([]receipt.PublicKey, 0, len(keys))
	for _, k := range keys {
		p, err := receipt.NewPublicKey(k.Public)
		if err != nil {
			return nil, fmt.Errorf("receipt key %s: %w", k.KID, err)
		}
		pubs = append(pubs, p)
	}
	return receipt.JWKS(pubs...)
}

// RotateReceiptKey makes a new current key and returns its kid; the old
// keys stay published, so their receipts still verify.
func (s *Service) RotateReceiptKey(ctx context.Context) (string, error) {
	var kid string
	err := s.DB.InTx(ctx, func(tx *postgres.Tx) error {
		if err := postgres.LockReceiptKeys(ctx, tx); err != nil {
			return err
		}
		k, err := s.newReceiptKey(ctx, tx)
		if err != nil {
			return err
		}
		kid = k.KID()
		return nil
	})
	return kid, err
}

// Revocation is what RevokeReceiptKey did.
type Revocation struct {
	KID      string // the key revoked
	Current  string // the key its receipts are signed with now
	Resigned int    // how many receipts were signed again
}

// RevokeReceiptKey revokes key kid (it leaves the JWKS at once) and signs
// every receipt it signed again, unchanged, with the current key, in
// transactions of at most batch receipts. Revoking the current key makes
// the next one current (a new one if none is left). A kid that was never a
// key is not_found; one revoked already is re-signed again, so a revocation
// interrupted midway is finished by running it again.
func (s *Service) RevokeReceiptKey(ctx context.Context, kid string, batch int) (Revocation, error) {
	if s.Receipts == nil {
		return Revocation{}, errNoReceipts
	}
	if batch < 1 {
		batch = 200
	}
	out := Revocation{KID: kid}
	err := s.DB.InTx(ctx, func(tx *postgres.Tx) error {
		if err := postgres.LockReceiptKeys(ctx, tx); err != nil {
			return err
		}
		ok, err := postgres.RevokeReceiptKey(ctx, tx, kid, s.now())
		if err != nil {
			return err
		}
		if !ok {
			keys, err := postgres.ReceiptKeys(ctx, tx, true)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if k.KID == kid { // revoked before: carry on re-signing
					return nil
				}
			}
			return fault.New(fault.NotFound, "no receipt key %s", kid)
		}
		if cur, err := postgres.CurrentReceiptKey(ctx, tx); err != nil || cur != nil {
			return err
		}
		_, err = s.newReceiptKey(ctx, tx)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("revoke receipt key %s: %w", kid, err)
	}
	n, current, err := s.ResignReceipts(ctx, kid, batch)
	out.Resigned, out.Current = n, current
	return out, err
}

// ResignReceipts signs every receipt signed by kid again with the current
// key, batch by batch, and returns how many and with which key.
func (s *Service) ResignReceipts(ctx context.Context, kid string, batch int) (int, string, error) {
	total, current := 0, ""
	for {
		n := 0
		err := s.DB.InTx(ctx, func(tx *postgres.Tx) error {
			key, err := s.currentReceiptKey(ctx, tx)
			if err != nil {
				return err
			}
			if key.KID() == kid {
				return fmt.Errorf("receipt key %s is still the current key", kid)
			}
			current = key.KID()
			list, err := postgres.LockReceiptsSignedBy(ctx, tx, kid, batch)
			if err != nil {
				return err
			}
			now := s.now()
			for _, st := range list {
				raw, err := s.Receipts.docs.Open(st.JWSSealed, []byte(st.ID))
				if err != nil {
					return fmt.Errorf("open receipt %s: %w", st.ID, err)
				}
				jws, err := resign(string(raw), key)
				if err != nil {
					return err
				}
				if err := postgres.SaveReceiptSignature(ctx, tx, st.ID, kid, key.KID(), s.Receipts.docs.Seal([]byte(jws), []byte(st.ID)), now); err != nil {
					return err
				}
			}
			n = len(list)
			return nil
		})
		if err != nil {
			return total, current, fmt.Errorf("re-sign receipts of %s: %w", kid, err)
		}
		total += n
		if n < batch {
			return total, current, nil
		}
	}
}
