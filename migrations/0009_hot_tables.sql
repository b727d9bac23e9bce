-- The hot tables at peak hours: every create inserts an idempotency record,
-- a payment request and an event; every payment updates its request, its
-- attempt and its event's delivery. PostgreSQL's defaults vacuum and
-- analyze a table once a fifth of it has changed, which on a large table
-- means rarely and then for long, and on a fresh one means plans made from
-- no statistics at all until the first analyze. Smaller fractions vacuum
-- and analyze these tables early and often, in short runs; a fill factor
-- under 100 leaves room on each page for updated rows to stay on it (HOT
-- updates, which touch no index).
ALTER TABLE payment_requests SET (fillfactor = 90,
    autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.01);
ALTER TABLE payment_attempts SET (fillfactor = 90,
    autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.01);
ALTER TABLE events SET (fillfactor = 90,
    autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.01);
ALTER TABLE idempotency_records SET (
    autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.01);
