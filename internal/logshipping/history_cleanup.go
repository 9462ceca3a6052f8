package logshipping

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// Once prune has deleted backup files, their msdb history goes too: sp_delete_backuphistory on
// every member, with a date that keeps every row still needed (the backup sets of the files that
// stay, which the catalogue lists from msdb when it cannot see the directory, and the set each
// restoring database of the member restored last, its redo point in STANDBY).

// historyDeleteMargin is how much older than the oldest backup set that must stay the history
// deleted is. sp_delete_backuphistory compares datetimes without zone: the member's local date
// with each set's finish date in the local time of whoever wrote it (a restored set keeps its
// primary's time), so the margin exceeds any two zones' difference (26 h) and a daylight-saving
// hour.
const historyDeleteMargin = 48 * time.Hour

// HistoryFloors is, per database of files, when the oldest backup set the prune decision keeps
// finished (sqlserver.DecidePrune at now: retention, the newest full backup of the current fork
// and everything after it, what the standbys at needed still restore). A database whose kept sets
// include one without a finish time, or without files, is left out: all of its history may matter.
func HistoryFloors(files Files, now time.Time, retention time.Duration, needed map[string]sqlserver.LSN) map[string]time.Time {
	out := map[string]time.Time{}
	for db, list := range files {
		var floor time.Time
		known := len(list) > 0
		for _, d := range sqlserver.DecidePrune(list, now, retention, needed) {
			for _, f := range d.Keep {
				switch {
				case f.FinishedAt.IsZero():
					known = false
				case floor.IsZero() || f.FinishedAt.Before(floor):
					floor = f.FinishedAt
				}
			}
		}
		if known && !floor.IsZero() {
			out[db] = floor
		}
	}
	return out
}

// HistoryCutoff is the date before which the msdb history of dbs may be deleted: the earliest of
// their floors (HistoryFloors) less historyDeleteMargin. ok is false when a database has no floor.
func HistoryCutoff(floors map[string]time.Time, dbs []string) (cutoff time.Time, ok bool) {
	for _, db := range dbs {
		f, known := floors[db]
		if !known {
			return time.Time{}, false
		}
		if cutoff.IsZero() || f.Before(cutoff) {
			cutoff = f
		}
	}
	if cutoff.IsZero() {
		return time.Time{}, false
	}
	return cutoff.Add(-historyDeleteMargin), true
}

// HistoryMember is a member whose msdb history CleanHistory deletes.
type HistoryMember struct {
	Name   string
	Client *sqlserver.Client
}

// HistoryCleanup is what CleanHistory did on one member.
type HistoryCleanup struct {
	Member string
	// Before is the date passed to sp_delete_backuphistory; zero when nothing was deleted (the
	// member's history was already cleaned up to there).
	Before time.Time
}

// historyCleaned remembers, per member address, the date its history was last deleted before.
type historyCleaned struct {
	mu     sync.Mutex
	before map[string]time.Time
}

func (h *historyCleaned) get(addr string) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.before[addr]
}

func (h *historyCleaned) set(addr string, t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.before == nil {
		h.before = map[string]time.Time{}
	}
	h.before[addr] = t
}

// CleanHistory deletes the msdb history older than cutoff (HistoryCutoff) on each member, through
// sp_delete_backuphistory, which works on the whole instance: the date is moved back, on each
// member, to before the backup set that any database restoring there restored last, less
// historyDeleteMargin (sqlserver.ProtectedRestores), so no standby of this group or another loses
// its position. A member already cleaned up to that date is skipped. The error joins the members
// that failed (a missing EXECUTE grant is a sqlserver.PermissionError); the others are cleaned.
func (s *Shipper) CleanHistory(ctx context.Context, members []HistoryMember, cutoff time.Time) ([]HistoryCleanup, error) {
	var out []HistoryCleanup
	var errs []error
	for _, m := range members {
		before, err := s.memberCutoff(ctx, m.Client, cutoff)
		if err != nil {
			errs = append(errs, fmt.Errorf("msdb history on %s: %w", m.Name, err))
			continue
		}
		if !before.After(s.cleaned.get(m.Client.Address())) {
			out = append(out, HistoryCleanup{Member: m.Name})
			continue
		}
		if err := m.Client.DeleteBackupHistory(ctx, before); err != nil {
			errs = append(errs, fmt.Errorf("msdb history on %s: %w", m.Name, err))
			continue
		}
		s.cleaned.set(m.Client.Address(), before)
		out = append(out, HistoryCleanup{Member: m.Name, Before: before})
	}
	return out, errors.Join(errs...)
}

// memberCutoff is cutoff, or earlier when a database restoring on c needs older history.
func (s *Shipper) memberCutoff(ctx context.Context, c *sqlserver.Client, cutoff time.Time) (time.Time, error) {
	protected, ok, err := c.ProtectedRestores(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if ok {
		if p := protected.Add(-historyDeleteMargin); p.Before(cutoff) {
			cutoff = p
		}
	}
	return cutoff, nil
}
