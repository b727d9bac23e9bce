-- A ledger transaction's balance is checked by the statement that writes it
-- (postLedgerSQL in internal/postgres/ledger.go): the statement refuses a
-- set of postings with fewer than two lines or whose debits and credits
-- differ, and then writes nothing. The deferred triggers that checked the
-- same at commit, with a SELECT per row written, go: the ledger is written
-- by that statement only, and gatewayctl verify still checks every
-- transaction's balance on its own. The append-only triggers stay.
DROP TRIGGER ledger_postings_balanced ON ledger_postings;
DROP TRIGGER ledger_transactions_balanced ON ledger_transactions;
DROP FUNCTION ledger_check_balanced();
