package dispatch

import (
	"context"
	"time"

	"github.com/citizenpay/gateway/internal/postgres"
)

// recordLinger is how long an outcome waits for others to be recorded with
// it. Each record is an UPDATE of the events it names, and at peak hours
// outcomes come a few a millisecond: gathered for a few milliseconds they
// go in one statement instead of one each. Nothing waits on the record but
// a redelivery after the lease, which is far longer.
const recordLinger = 10 * time.Millisecond

// recordFrom records attempts as they come, those arriving within
// recordLinger of the first (up to maxBatch) at once, until results is
// closed.
func (d *Dispatcher) recordFrom(results <-chan postgres.Attempt) {
	batch := make([]postgres.Attempt, 0, maxBatch)
	linger := time.NewTimer(recordLinger)
	linger.Stop()
	for a := range results {
		batch = append(batch[:0], a)
		linger.Reset(recordLinger)
	gather:
		for len(batch) < maxBatch {
			select {
			case a, ok := <-results:
				if !ok {
					break gather
				}
				batch = append(batch, a)
			case <-linger.C:
				break gather
			}
		}
		linger.Stop()
		d.record(batch)
	}
}

// record writes a batch of outcomes, retrying a few times (a deadlock with
// event sequencing, a database that blinks). If it cannot, the events are
// due again when their lease ends and are sent once more: at least once.
func (d *Dispatcher) record(batch []postgres.Attempt) {
	var err error
	for try, wait := 0, 50*time.Millisecond; try < 5; try, wait = try+1, wait*4 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = postgres.RecordAttempts(ctx, d.DB, batch)
		cancel()
		if err == nil {
			return
		}
		time.Sleep(wait)
	}
	d.Log.Error("webhook dispatcher: attempts not recorded; they will be made again", "count", len(batch), "error", err.Error())
}
