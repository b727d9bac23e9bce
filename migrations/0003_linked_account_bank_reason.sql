-- A citizen sees one rejection reason for every refusal by the bank
-- (not_verified): telling a holder mismatch from an unknown number would let
-- anyone probe a bank's account numbers (PROTOCOL.md §6). The bank's own
-- reason code is kept apart, for the operator, and never shown to the
-- citizen. It is recorded with a failed verification, also one that arrives
-- after the account moved on (timed out, unlinked).
ALTER TABLE linked_accounts ADD COLUMN bank_reason_code text;
UPDATE linked_accounts
   SET bank_reason_code = nullif(rejection_reason, 'rejected_by_bank'), rejection_reason = 'not_verified'
 WHERE status = 'rejected' AND rejection_reason NOT IN ('bank_timeout', 'account_taken');
ALTER TABLE linked_accounts ADD CONSTRAINT linked_accounts_rejection_reason
    CHECK (rejection_reason IN ('not_verified', 'bank_timeout', 'account_taken'));
ALTER TABLE linked_accounts ADD CONSTRAINT linked_accounts_bank_reason_failed
    CHECK (bank_reason_code IS NULL OR verification_outcome = 'failed');
