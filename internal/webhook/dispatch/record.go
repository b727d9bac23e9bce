package dispatch

import (
	"context"
	"time"

	"github.com/citizenpay/gateway/internal/postgres"
)

// recordFrom records attempts as they come, as many at once as are waiting,
// until results is closed.
func (d *Dispatcher) recordFrom(results <-chan postgres.Attempt) {
	batch := make([]postgres.Attempt, 0, maxBatch)
	for a := range results {
		batch = append(batch[:0], a)
	drain:
		for len(batch) < maxBatch {
			select {
			case a, ok := <-results:
				if !ok {
					break drain
				}
				batch = append(batch, a)
			default:
				break drain
			}
		}
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
