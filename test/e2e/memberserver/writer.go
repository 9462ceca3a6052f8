package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/understudy-dev/understudy/test/e2e/memberapi"
)

// The writer's answers (memberapi is shared with the e2e suite).
type (
	Ack         = memberapi.Ack
	WriterStats = memberapi.WriterStats
	RowCheck    = memberapi.RowCheck
)

// sqlWriter is the application of the SQL scenario: it inserts one row at a time into
// dbo.Orders through the routed Service, on one connection that it drops after any error and opens
// again (through the Service, so it lands on whichever member is active), and remembers every
// acknowledged insert.
type sqlWriter struct {
	addr string
	db   *sql.DB
	pace time.Duration

	mu    sync.Mutex
	stats WriterStats
}

func runWriter(ctx context.Context, listen string) error {
	addr, err := sqlTarget()
	if err != nil {
		return err
	}
	db, err := openSQL(addr, envOr("SQL_DATABASE", "Sales"))
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	db.SetMaxIdleConns(0) // a connection given back is closed: every (re)connect goes through the Service
	pace, err := time.ParseDuration(envOr("WRITE_PACE", "20ms"))
	if err != nil {
		return err
	}
	w := &sqlWriter{addr: addr, db: db, pace: pace, stats: WriterStats{Target: addr}}
	srv := &http.Server{Addr: listen, Handler: w.handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go w.loop(ctx)
	log.Printf("writer: inserting into dbo.Orders through %s every %s; stats on %s", addr, pace, listen)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (w *sqlWriter) loop(ctx context.Context) {
	var conn *sql.Conn
	var server string
	for id := 1; ctx.Err() == nil; id++ {
		if conn == nil {
			var err error
			conn, server, err = w.connect(ctx)
			if err != nil {
				w.failed(err)
				id-- // nothing was sent: the id is still unused
				w.sleep(ctx)
				continue
			}
		}
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := conn.ExecContext(qctx, "INSERT INTO dbo.Orders (id, note) VALUES (@p1, @p2)", id, "e2e")
		cancel()
		if err != nil {
			// In doubt: the row may or may not be there; it is not counted as acknowledged. The
			// connection is dropped (not returned to the pool) so the next one goes through the
			// Service again.
			w.failed(err)
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			_ = conn.Close()
			conn = nil
		} else {
			w.mu.Lock()
			w.stats.Acks = append(w.stats.Acks, Ack{ID: id, At: time.Now().UTC(), Server: server})
			w.mu.Unlock()
		}
		w.sleep(ctx)
	}
	if conn != nil {
		_ = conn.Close()
	}
}

func (w *sqlWriter) connect(ctx context.Context) (*sql.Conn, string, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := w.db.Conn(cctx)
	if err != nil {
		return nil, "", err
	}
	var server string
	if err := conn.QueryRowContext(cctx, "SELECT @@SERVERNAME").Scan(&server); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = conn.Close()
		return nil, "", err
	}
	w.mu.Lock()
	w.stats.Connects++
	w.mu.Unlock()
	log.Printf("writer: connected to %s through %s", server, w.addr)
	return conn, server, nil
}

func (w *sqlWriter) failed(err error) {
	w.mu.Lock()
	w.stats.Errors++
	w.stats.LastError = err.Error()
	w.mu.Unlock()
}

func (w *sqlWriter) sleep(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(w.pace):
	}
}

func (w *sqlWriter) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(rw http.ResponseWriter, _ *http.Request) {
		w.mu.Lock()
		s := w.stats
		s.Acks = append([]Ack(nil), w.stats.Acks...)
		w.mu.Unlock()
		writeJSON(rw, s)
	})
	mux.HandleFunc("GET /check", func(rw http.ResponseWriter, r *http.Request) {
		rc, err := w.check(r.Context())
		if err != nil {
			http.Error(rw, err.Error(), http.StatusServiceUnavailable)
			return
		}
		writeJSON(rw, rc)
	})
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(rw, "ok\n") })
	return mux
}

// check reads every id in dbo.Orders through the Service, on a new connection, and lists the
// acknowledged inserts that are not there.
func (w *sqlWriter) check(ctx context.Context) (RowCheck, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// The acknowledgements are taken before the rows are read: every one of them was committed
	// before the SELECT started, so each must be there. (Taken after, an insert acknowledged while
	// the SELECT ran would look missing.)
	w.mu.Lock()
	acks := append([]Ack(nil), w.stats.Acks...)
	w.mu.Unlock()
	conn, server, err := w.connect(ctx)
	if err != nil {
		return RowCheck{}, err
	}
	defer func() { _ = conn.Close() }()
	rows, err := conn.QueryContext(ctx, "SELECT id FROM dbo.Orders")
	if err != nil {
		return RowCheck{}, err
	}
	defer func() { _ = rows.Close() }()
	present := map[int]bool{}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return RowCheck{}, err
		}
		present[id] = true
	}
	if err := rows.Err(); err != nil {
		return RowCheck{}, err
	}
	rc := RowCheck{Server: server, Acked: len(acks), Present: len(present), Missing: []Ack{}}
	for _, a := range acks {
		if !present[a.ID] {
			rc.Missing = append(rc.Missing, a)
		}
	}
	return rc, nil
}

func writeJSON(rw http.ResponseWriter, v any) {
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(v)
}
