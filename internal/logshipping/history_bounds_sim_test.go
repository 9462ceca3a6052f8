package logshipping

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
	"github.com/understudy-dev/understudy/test/mssqlsim"
)

// historyRows records the most rows one read of the full and log backup history returned.
type historyRows struct {
	mu  sync.Mutex
	max int64
}

func watchHistoryReads(srv *mssqlsim.Server) *historyRows {
	h := &historyRows{}
	srv.ObserveStatements(func(st mssqlsim.Statement) {
		if strings.Contains(st.Text, "FROM msdb.dbo.backupset bs") && strings.Contains(st.Text, "bs.type IN ('D', 'L')") {
			h.mu.Lock()
			h.max = max(h.max, st.Rows)
			h.mu.Unlock()
		}
	})
	return h
}

// reset forgets the reads so far and returns their maximum.
func (h *historyRows) reset() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.max
	h.max = 0
	return m
}

// A primary with ten days of log backups behind its newest full backup: the reads of every cycle
// (RunBackups, InspectLogs, the catalogue from msdb once a prune decision was made) return the
// newest full backup and what follows, not the whole history; the catalogue still lists every
// file a lagging standby needs.
func TestHistoryReadsAreBoundedByTheNewestFullBackup(t *testing.T) {
	primary := startMember(t, "PRIMARY")
	g := newGroupSeeing(t, false)
	createDB(t, primary, "sales")
	ctx := testContext(t)
	const oldLogs = 30
	for range oldLogs {
		insert(t, primary, "sales", 1)
		g.backup(t, primary, []string{"sales"}, nil) // the first full backup, then a log backup each
	}
	if err := primary.srv.AgeHistory(10 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	old := g.files(t, primary, []string{"sales"})["sales"]
	if len(old) != oldLogs+1 {
		t.Fatalf("old history: %d sets, want %d", len(old), oldLogs+1)
	}
	g.backup(t, primary, []string{"sales"}, map[string]bool{"sales": true}) // today's full backup and a log backup
	reads := watchHistoryReads(primary.srv)
	g.backup(t, primary, []string{"sales"}, nil)
	if _, err := g.shipper.InspectLogs(ctx, primary.client, []string{"sales"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := reads.reset(); n == 0 || n > 4 {
		t.Fatalf("backups and log inspection read %d history rows at most, want the newest full backup and what follows (at most 4), not %d days of log backups", n, 10)
	}

	// The catalogue: everything before its first prune decision, then from the oldest set kept.
	files := g.files(t, primary, []string{"sales"})
	if n := reads.reset(); n < oldLogs+4 {
		t.Fatalf("first listing read %d rows, want all %d", n, oldLogs+4)
	}
	lagging := old[10].LastLSN // a standby restored the first ten log backups only
	for _, tc := range []struct {
		name    string
		needed  map[string]sqlserver.LSN
		maxRows int64
		from    sqlserver.LSN // every set ending after it must be listed
	}{
		{"no standby behind the newest full backup", map[string]sqlserver.LSN{}, 4, files["sales"][oldLogs+1].FirstLSN},
		// It needs the log backups after its position, and the full backup they are based on.
		{"a standby ten log backups in", map[string]sqlserver.LSN{"sales": lagging}, oldLogs + 4, lagging},
	} {
		t.Run(tc.name, func(t *testing.T) {
			floors := HistoryFloors(files, time.Now(), time.Hour, tc.needed)
			if err := g.shipper.Catalogue.KeepHistoryFrom(g.shipper.Target, "sales", floors["sales"]); err != nil {
				t.Fatal(err)
			}
			listed := g.files(t, primary, []string{"sales"})["sales"]
			if n := reads.reset(); n > tc.maxRows {
				t.Fatalf("listing read %d rows, want at most %d", n, tc.maxRows)
			}
			got := map[string]bool{}
			for _, f := range listed {
				got[f.Path] = true
			}
			if len(tc.needed) > 0 && !got[old[0].Path] {
				t.Fatalf("the bounded listing lost the full backup %s a standby's logs are based on", old[0].Name())
			}
			for _, f := range files["sales"] {
				if tc.from.Less(f.LastLSN) && !got[f.Path] {
					t.Fatalf("the bounded listing lost %s (LSN %s-%s), which a standby at %s restores", f.Name(), f.FirstLSN, f.LastLSN, tc.from)
				}
			}
		})
	}
}
