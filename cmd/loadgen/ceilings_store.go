package main

// Every call of the ceilings into the gateway's stores and services is in
// this file: the create and clearing transactions are the gateway's own
// (idempotency.Guard, service.CreatePaymentRequest, service.Callbacks with
// service.DebitCallback, which call internal/postgres exactly as a request
// does), and the scratch database is seeded with internal/postgres's
// functions, never with SQL of its own.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/account"
	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/idempotency"
	"github.com/citizenpay/gateway/internal/keyring"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/redisstore"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/webhook"
	"github.com/citizenpay/gateway/internal/wire"
)

// The bench citizen and fee of the ceilings, as loadgen's create scenario
// sends them.
const (
	ceilPID      = "079203001234"
	ceilBankCode = "SBX"
	ceilAmount   = "75000"
)

// ceilingStore runs the gateway's create and clearing transactions on a
// scratch database.
type ceilingStore struct {
	db        *postgres.DB
	keys      *keyring.Keyring
	svc       *service.Service
	guard     *idempotency.Guard
	callbacks *service.Callbacks
	portalID  string
	accountID string
	fp        [32]byte // the create's fingerprint: every key is new, so one will do
}

// openCeilingStore migrates the (empty) database at url and onboards the
// bench portal and bank, with a pool of maxConns connections.
func openCeilingStore(ctx context.Context, url string, maxConns int32) (*ceilingStore, error) {
	pool, err := postgres.Open(ctx, url, maxConns)
	if err != nil {
		return nil, err
	}
	s, err := newCeilingStore(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func newCeilingStore(ctx context.Context, pool *pgxpool.Pool) (*ceilingStore, error) {
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		return nil, err
	}
	var master [keyring.KeySize]byte
	if _, err := rand.Read(master[:]); err != nil {
		return nil, err
	}
	keys, err := keyring.New(master[:])
	if err != nil {
		return nil, err
	}
	db := postgres.NewDB(pool)
	svc := &service.Service{DB: db, PII: pii.NewProtector(keys), Receipts: service.NewReceipts(keys, "http://localhost:8080")}
	s := &ceilingStore{db: db, keys: keys, svc: svc,
		guard:     &idempotency.Guard{Records: db, TTL: 24 * time.Hour, LockTTL: time.Minute}, // PostgreSQL only: the Redis script is measured apart
		callbacks: &service.Callbacks{DB: db}}
	s.callbacks.Handle("debit", svc.DebitCallback)
	if s.fp, err = idempotency.Fingerprint(keys.Key("idempotency-fingerprint"), "POST", "/v1/payment-requests", createBody(ceilPID, "CEIL")); err != nil {
		return nil, err
	}
	whsec, err := webhook.NewSecret()
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	p := &portal.Portal{ID: id.New(id.Portal), Name: "Bench portal", KeyID: portal.NewKeyID(), Secret: portal.NewSecret(),
		WebhookURL: "http://127.0.0.1:9/webhooks", WebhookSecret: whsec, CreatedAt: now}
	if err := postgres.NewPortalStore(db, keys).Create(ctx, p); err != nil {
		return nil, err
	}
	b := &bank.Bank{Code: ceilBankCode, Name: "Bench bank", BaseURL: "http://127.0.0.1:9", Secret: bank.NewSecret(), CreatedAt: now, UpdatedAt: now}
	if err := postgres.NewBankStore(db, keys).Create(ctx, b); err != nil {
		return nil, err
	}
	s.portalID = p.ID
	return s, s.linkAccount(ctx, now)
}

func (s *ceilingStore) Close() { s.db.Close() }

// linkAccount gives the bench citizen an active account at the bench bank,
// which the seeded debits come from.
func (s *ceilingStore) linkAccount(ctx context.Context, now time.Time) error {
	return s.db.InTx(ctx, func(tx *postgres.Tx) error {
		index := s.svc.PII.Index(pii.KindPID, ceilPID)
		ctzID := id.New(id.Citizen)
		citizen, err := postgres.EnsureCitizen(ctx, tx, ctzID, postgres.SealedPID{Index: index,
			Sealed: s.svc.PII.Seal(pii.KindPID, ceilPID, postgres.CitizenPIDBinding(ctzID, index))})
		if err != nil {
			return err
		}
		number := "0071000123456"
		a := &account.Account{ID: id.New(id.Account), CitizenID: citizen, BankCode: ceilBankCode,
			NumberMasked: pii.MaskAccount(number), Status: account.StatusPending,
			VerificationID: id.New(id.AccountVerification), CreatedAt: now, UpdatedAt: now}
		accIndex := s.svc.PII.Index(pii.KindAccount, number)
		if err := postgres.InsertAccount(ctx, tx, a, postgres.SealedAccount{Index: accIndex,
			Sealed:           s.svc.PII.Seal(pii.KindAccount, number, postgres.AccountNumberBinding(a.ID, accIndex)),
			HolderNameSealed: s.keys.Sealer("account-holder-names").Seal([]byte("Nguyen Van An"), []byte(a.ID))}); err != nil {
			return err
		}
		a.Settle(account.OutcomeSucceeded, "", false, now)
		s.accountID = a.ID
		return postgres.SaveAccount(ctx, tx, a)
	})
}

// create runs the gateway's create transaction for the n-th fee: the
// idempotency record, the request and its event, and the stored response.
func (s *ceilingStore) create(ctx context.Context, run string, n int) error {
	amount, le, phi := ceilAmount, "50000", "25000"
	in := payment.CreateInput{
		CitizenPID: ceilPID, DossierCode: fmt.Sprintf("CEIL-%s-%d", run, n), ServiceCode: "1.001234",
		Description: "Lệ phí cấp giấy phép xây dựng", Amount: &amount, Currency: "VND",
		Items: []payment.ItemInput{
			{Code: "LE_PHI", Description: "Lệ phí", Amount: &le},
			{Code: "PHI", Description: "Phí thẩm định", Amount: &phi},
		},
		Metadata: map[string]string{"office": "Q1"},
	}
	claim := idempotency.Claim{Scope: "portal:" + s.portalID, Key: fmt.Sprintf("ceil-%s-%d", run, n), Fingerprint: s.fp}
	_, replayed, err := s.guard.Do(ctx, claim, func(ctx context.Context, tx *postgres.Tx) (idempotency.Response, error) {
		draft, err := payment.Validate(in, time.Now())
		if err != nil {
			return idempotency.Response{}, err
		}
		r, err := s.svc.CreatePaymentRequest(ctx, tx, s.portalID, draft)
		if err != nil {
			return idempotency.Response{}, err
		}
		body, err := json.Marshal(wire.ToPaymentRequest(r, s.svc.PublicURL))
		return idempotency.Response{Status: 201, Body: body}, err
	}, nil)
	if err == nil && replayed {
		err = fmt.Errorf("create %s-%d was replayed: its key was used before", run, n)
	}
	return err
}

// createPipelined writes what the n-th fee's create leaves, with the
// statements internal/postgres runs for it, in one pipelined round trip:
// a batch of BEGIN, the key's record with its response, the request, its
// event, COMMIT. It is the least a create can cost PostgreSQL; the
// gateway's own transaction (create) takes a round trip a statement, and
// works in Go in between. The response stored is the gateway's for a fee
// like it, made once.
func (s *ceilingStore) createPipelined(ctx context.Context, run string, n int, response []byte) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	r := s.pendingRequest(fmt.Sprintf("CEILP-%s-%d", run, n), now)
	index := s.svc.PII.Index(pii.KindPID, ceilPID)
	pid := postgres.SealedPID{Index: index, Sealed: s.svc.PII.Seal(pii.KindPID, ceilPID, postgres.RequestPIDBinding(r.ID, index))}
	reqSQL, reqArgs, err := postgres.PaymentRequestInsertStatement(r, pid)
	if err != nil {
		return err
	}
	evSQL, evArgs := postgres.EventInsertStatement(postgres.NewEvent{ID: id.New(id.Event), PortalID: r.PortalID,
		Type: "payment_request.created", Payload: response, At: now})
	idemSQL, idemArgs := postgres.IdempotentResponseInsertStatement("portal:"+s.portalID, fmt.Sprintf("ceilp-%s-%d", run, n),
		s.fp[:], 201, response)
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(idemSQL, idemArgs...)
	b.Queue(reqSQL, reqArgs...)
	b.Queue(evSQL, evArgs...)
	b.Queue("COMMIT")
	if err := s.db.Pool().SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("pipelined create %s-%d: %w", run, n, err)
	}
	return nil
}

// pendingRequest is the bench fee for dossier as the create makes it.
func (s *ceilingStore) pendingRequest(dossier string, now time.Time) *payment.Request {
	return &payment.Request{ID: id.New(id.PaymentRequest), PortalID: s.portalID, Status: payment.StatusPending,
		Version: 1, CitizenPIDMasked: pii.MaskPID(ceilPID), DossierCode: dossier,
		ServiceCode: "1.001234", Description: "Lệ phí cấp giấy phép xây dựng",
		Items: []payment.Item{{Code: "LE_PHI", Description: "Lệ phí", Amount: decimal.NewFromInt(50000)},
			{Code: "PHI", Description: "Phí thẩm định", Amount: decimal.NewFromInt(25000)}},
		Amount: decimal.RequireFromString(ceilAmount), Currency: "VND", AmountRefunded: decimal.Zero,
		Metadata: map[string]string{"office": "Q1"}, ExpiresAt: now.Add(payment.DefaultExpiry), CreatedAt: now, UpdatedAt: now}
}

// createResponse is the body the gateway answers (and stores, and sends as
// the event's) for a create like the ceilings': its rendering of the fee.
func (s *ceilingStore) createResponse() ([]byte, error) {
	return json.Marshal(wire.ToPaymentRequest(s.pendingRequest("CEILP", time.Now().UTC()), s.svc.PublicURL))
}

// seedDebits records n requests in processing, each with its pending debit
// from the bench account, as a citizen's pay leaves them, in transactions
// of batch; it returns the debits' ids.
func (s *ceilingStore) seedDebits(ctx context.Context, first, n, batch int) ([]string, error) {
	ids := make([]string, 0, n)
	amount := decimal.RequireFromString(ceilAmount)
	for done := 0; done < n; done += batch {
		err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
			for i := done; i < min(done+batch, n); i++ {
				now := time.Now().UTC().Truncate(time.Microsecond)
				r := &payment.Request{ID: id.New(id.PaymentRequest), PortalID: s.portalID, Status: payment.StatusProcessing,
					Version: 2, CitizenPIDMasked: pii.MaskPID(ceilPID), DossierCode: fmt.Sprintf("CLEAR-%d", first+i),
					ServiceCode: "1.001234", Description: "Lệ phí cấp giấy phép xây dựng",
					Items: []payment.Item{{Code: "LE_PHI", Description: "Lệ phí", Amount: decimal.NewFromInt(50000)},
						{Code: "PHI", Description: "Phí thẩm định", Amount: decimal.NewFromInt(25000)}},
					Amount: amount, Currency: "VND", AmountRefunded: decimal.Zero, Metadata: map[string]string{"office": "Q1"},
					ExpiresAt: now.Add(payment.DefaultExpiry), CreatedAt: now, UpdatedAt: now}
				index := s.svc.PII.Index(pii.KindPID, ceilPID)
				pid := postgres.SealedPID{Index: index, Sealed: s.svc.PII.Seal(pii.KindPID, ceilPID, postgres.RequestPIDBinding(r.ID, index))}
				ev := postgres.NewEvent{ID: id.New(id.Event), PortalID: r.PortalID, Type: "payment_request.created",
					Payload: []byte(`{}`), At: now}
				if err := postgres.InsertPaymentRequest(ctx, tx, r, pid, ev); err != nil {
					return err
				}
				a := &payment.Attempt{ID: id.New(id.PaymentAttempt), RequestID: r.ID, AccountID: s.accountID, BankCode: ceilBankCode,
					Amount: amount, Currency: "VND", Status: payment.OutcomePending, CreatedAt: now, UpdatedAt: now}
				if err := postgres.InsertAttempt(ctx, tx, a); err != nil {
					return err
				}
				ids = append(ids, a.ID)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("seed debits: %w", err)
		}
	}
	return ids, nil
}

// clear runs the gateway's clearing transaction for a bank's debit.succeeded
// callback on debitID: the bank event claimed, the attempt read, the request
// and the attempt locked and saved, the ledger posted, the event written and
// the result recorded.
func (s *ceilingStore) clear(ctx context.Context, eventID, debitID string) error {
	data, err := json.Marshal(map[string]string{"debit_id": debitID, "amount": ceilAmount, "currency": "VND",
		"bank_reference": "FT" + eventID})
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	body, err := json.Marshal(map[string]any{"event_id": eventID, "type": "debit.succeeded",
		"occurred_at": now.Format(time.RFC3339), "data": json.RawMessage(data)})
	if err != nil {
		return err
	}
	res, err := s.callbacks.Apply(ctx, service.Callback{BankCode: ceilBankCode, EventID: eventID, Type: "debit.succeeded",
		OccurredAt: now, Data: data, Body: body})
	if err == nil && res != service.ResultApplied {
		err = fmt.Errorf("debit %s: the callback was %s, not applied", debitID, res)
	}
	return err
}

// ledgerBalanced reports whether the scratch ledger's books balance.
func (s *ceilingStore) ledgerBalanced(ctx context.Context) (bool, error) {
	bs, err := postgres.Balances(ctx, s.db)
	if err != nil {
		return false, err
	}
	debits, credits := decimal.Zero, decimal.Zero
	for _, b := range bs {
		debits, credits = debits.Add(b.Debits), credits.Add(b.Credits)
	}
	return debits.Equal(credits), nil
}

// idemScript runs the gateway's idempotency script (redisstore's Acquire,
// EVALSHA) for new keys under a prefix of its own.
type idemScript struct {
	client redis.UniversalClient
	prefix string
	idem   *redisstore.Idempotency
}

func openIdemScript(url, prefix string) (*idemScript, error) {
	client, err := redisstore.Connect(redisstore.Options{URL: url})
	if err != nil {
		return nil, err
	}
	return &idemScript{client: client, prefix: prefix, idem: redisstore.New(client, prefix, nil).Idempotency()}, nil
}

func (s *idemScript) Close() error { return s.client.Close() }

// acquire takes the in-flight lock of the n-th key, as the first request
// with that Idempotency-Key does.
func (s *idemScript) acquire(ctx context.Context, n int) error {
	claim := idempotency.Claim{Scope: "portal:ptl_bench", Key: strconv.Itoa(n)}
	state, _, err := s.idem.Acquire(ctx, claim, "tok", time.Minute)
	if err == nil && state != idempotency.FastAcquired {
		err = fmt.Errorf("key %d: the script found it taken (%d)", n, state)
	}
	return err
}

// cleanup deletes the keys acquire made.
func (s *idemScript) cleanup(ctx context.Context) error {
	iter := s.client.Scan(ctx, 0, s.prefix+"*", 5000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 5000 {
			if err := s.client.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if err := s.client.Unlink(ctx, batch...).Err(); err != nil {
			return err
		}
	}
	return iter.Err()
}

// flushRedis empties the Redis database of url.
func flushRedis(ctx context.Context, url string) error {
	client, err := redisstore.Connect(redisstore.Options{URL: url})
	if err != nil {
		return err
	}
	defer client.Close()
	return client.FlushDB(ctx).Err()
}
