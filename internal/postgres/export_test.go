package postgres

// PostLedgerSQL is the posting statement, for tests that send it postings
// PostLedger would refuse before PostgreSQL sees them.
const PostLedgerSQL = postLedgerSQL
