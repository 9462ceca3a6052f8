package main

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// writer is the application: it inserts one order at a time into dbo.Orders and remembers which
// inserts the server acknowledged and when. Rows lost = acknowledged ids that are not there later.
type writer struct {
	db      *sql.DB
	firstID int
	note    string

	mu     sync.Mutex
	acked  []int       // ids the server acknowledged, in order
	at     []time.Time // when each was acknowledged
	errs   int
	cancel context.CancelFunc
	done   chan struct{}
}

// writerPace is the pause between inserts: about 50 rows a second, so one 10 s log interval is
// about 500 rows.
const writerPace = 20 * time.Millisecond

// idSpan is the range of ids one writer uses: [firstID, firstID+idSpan).
const idSpan = 1_000_000

// startWriter inserts rows with ids firstID, firstID+1, ... until stopped. A failed insert (the
// server is gone, the database is restoring) is retried with the next id after the same pause.
func startWriter(ctx context.Context, db *sql.DB, firstID int, note string) *writer {
	ctx, cancel := context.WithCancel(ctx)
	w := &writer{db: db, firstID: firstID, note: note, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for id := firstID; ctx.Err() == nil; id++ {
			qctx, qcancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := db.ExecContext(qctx, "INSERT INTO dbo.Orders (id, note) VALUES (@p1, @p2)", id, note)
			qcancel()
			w.mu.Lock()
			if err == nil {
				w.acked = append(w.acked, id)
				w.at = append(w.at, time.Now())
			} else {
				w.errs++
			}
			w.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(writerPace):
			}
		}
	}()
	return w
}

// Stop stops the writer and waits for its last insert to end.
func (w *writer) Stop() {
	w.cancel()
	<-w.done
}

// Acked is the number of acknowledged inserts.
func (w *writer) Acked() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// AckedIn counts the inserts acknowledged in (from, to].
func (w *writer) AckedIn(from, to time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, t := range w.at {
		if t.After(from) && !t.After(to) {
			n++
		}
	}
	return n
}

// Errors is the number of failed inserts.
func (w *writer) Errors() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.errs
}

// Rate is the writer's acknowledged inserts per second over its life so far.
func (w *writer) Rate() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.at) < 2 {
		return 0
	}
	return float64(len(w.at)-1) / w.at[len(w.at)-1].Sub(w.at[0]).Seconds()
}

// rowCheck is the comparison of what the writer was told with what a database holds.
type rowCheck struct {
	Acked, Present, Lost int
}

// Check reads the ids of this writer's rows with an observer's connection and counts the acknowledged ones that are
// missing. Present counts the writer's rows found, acknowledged or not (an insert whose answer was
// lost in a crash may be there without having been acknowledged).
func (w *writer) Check(ctx context.Context, db *sql.DB) (rowCheck, error) {
	w.mu.Lock()
	acked := append([]int(nil), w.acked...)
	w.mu.Unlock()
	rows, err := db.QueryContext(ctx, "SELECT id FROM "+ordersTable+" WHERE id >= @p1 AND id < @p2", w.firstID, w.firstID+idSpan)
	if err != nil {
		return rowCheck{}, fmt.Errorf("read order ids: %w", err)
	}
	defer rows.Close()
	present := map[int]bool{}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return rowCheck{}, err
		}
		present[id] = true
	}
	if err := rows.Err(); err != nil {
		return rowCheck{}, err
	}
	rc := rowCheck{Acked: len(acked), Present: len(present)}
	for _, id := range acked {
		if !present[id] {
			rc.Lost++
		}
	}
	return rc, nil
}
