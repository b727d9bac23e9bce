-- Webhook deliveries are dispatched from the events table itself instead of
-- one River job per event: an event is due for its next attempt at
-- next_attempt_at. A dispatcher claims due events in batches (moving
-- next_attempt_at past the attempt, a lease that a dead process's events
-- outlive), sends them, and records the outcomes in one statement. NULL once
-- delivered or failed, and while the event is held for a disabled endpoint.
ALTER TABLE events ADD COLUMN next_attempt_at timestamptz;
UPDATE events SET next_attempt_at = now() WHERE delivery_status = 'pending';
ALTER TABLE events ALTER COLUMN next_attempt_at SET DEFAULT now();
ALTER TABLE events ADD CONSTRAINT events_due_only_pending
    CHECK (next_attempt_at IS NULL OR delivery_status = 'pending');
CREATE INDEX events_due ON events (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- Delivery jobs queued before this migration: their events are due above.
DELETE FROM river_job WHERE kind = 'deliver_webhook';
