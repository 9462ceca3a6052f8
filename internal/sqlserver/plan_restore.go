package sqlserver

import (
	"fmt"
	"slices"
	"time"
)

// GapError reports a break in the log chain: no log backup covers the redo
// point, the next one starts later (SQL Server would refuse it with 4305).
// The standby must be re-seeded from a newer full backup, or the missing
// file found.
type GapError struct {
	// Redo is the redo point no file covers.
	Redo LSN
	// NextFirstLSN is the FirstLSN of the first file after the gap.
	NextFirstLSN LSN
	// NextFile is that file's path.
	NextFile string
}

func (e *GapError) Error() string {
	return fmt.Sprintf("log chain gap: redo point %s is not covered, the next log backup %s starts at %s", e.Redo, e.NextFile, e.NextFirstLSN)
}

// PlanLogRestores chooses, in order, the log backups to apply to a
// database whose redo point is redo:
//
//   - only log backups are considered (full backups are ignored); a file
//     with LastLSN <= redo was already applied and is skipped (SQL Server
//     refuses it with 4326);
//   - the next file must satisfy FirstLSN <= redo < LastLSN; when several
//     do (duplicates, COPY_ONLY log backups overlapping the chain) the one
//     reaching furthest (highest LastLSN) is taken, so no step is wasted;
//   - applying a file moves redo to its LastLSN;
//   - when no file covers the redo point but later files exist, the chain
//     has a gap (SQL Server would refuse the next file with 4305): gap
//     describes it, and apply holds the files before it, which are still
//     safe to apply;
//   - with a non-zero notAfter (a restore delay) apply stops before the
//     first file that finished after notAfter, or whose finish time is
//     unknown. A gap further on is still reported, so that it is noticed
//     as early as possible.
//
// The input is not modified. Check gap != nil (it is a *GapError, not an
// error interface, to keep nil checks honest).
func PlanLogRestores(redo LSN, logs []BackupFile, notAfter time.Time) (apply []BackupFile, gap *GapError) {
	chain, gap := logChain(redo, logs)
	for i, f := range chain {
		if !notAfter.IsZero() && (f.FinishedAt.IsZero() || f.FinishedAt.After(notAfter)) {
			return chain[:i:i], gap
		}
	}
	return chain, gap
}

// logChain is the greedy interval cover behind PlanLogRestores, ignoring
// any delay: O(n log n) for the tens of thousands of files a long
// retention at a short log backup interval can hold.
func logChain(redo LSN, logs []BackupFile) (chain []BackupFile, gap *GapError) {
	sorted := make([]BackupFile, 0, len(logs))
	for _, f := range logs {
		if f.Type == BackupLog {
			sorted = append(sorted, f)
		}
	}
	slices.SortStableFunc(sorted, compareByLSNRange)
	best := -1 // the file reaching furthest among those starting at or before redo
	next := 0  // first file not yet considered
	for {
		for next < len(sorted) && sorted[next].FirstLSN.Cmp(redo) <= 0 {
			if best < 0 || sorted[next].LastLSN.Cmp(sorted[best].LastLSN) > 0 {
				best = next
			}
			next++
		}
		if best >= 0 && sorted[best].LastLSN.Cmp(redo) > 0 {
			chain = append(chain, sorted[best])
			redo = sorted[best].LastLSN
			continue
		}
		// Nothing covers redo. Files still ahead that end after redo mean
		// a gap; files ending at or before redo were applied already.
		for ; next < len(sorted); next++ {
			if sorted[next].LastLSN.Cmp(redo) > 0 {
				return chain, &GapError{Redo: redo, NextFirstLSN: sorted[next].FirstLSN, NextFile: sorted[next].Path}
			}
		}
		return chain, nil
	}
}

// compareByLSNRange orders by FirstLSN, then LastLSN, then path, then set.
func compareByLSNRange(a, b BackupFile) int {
	if c := a.FirstLSN.Cmp(b.FirstLSN); c != 0 {
		return c
	}
	if c := a.LastLSN.Cmp(b.LastLSN); c != 0 {
		return c
	}
	switch {
	case a.Path < b.Path:
		return -1
	case a.Path > b.Path:
		return 1
	}
	return a.Set() - b.Set()
}

// LatestFull returns the newest full backup usable to seed a standby (the
// one with the highest LastLSN, ties broken by finish time) among files
// that finished at or before notAfter (zero: no limit), and the log
// backups that can follow it: those with LastLSN beyond the full backup's,
// ordered by FirstLSN. Pass the logs to PlanLogRestores with the full
// backup's LastLSN as the redo point. ok is false when there is no full
// backup.
func LatestFull(files []BackupFile, notAfter time.Time) (full BackupFile, logs []BackupFile, ok bool) {
	for _, f := range files {
		if f.Type != BackupFull {
			continue
		}
		if !notAfter.IsZero() && (f.FinishedAt.IsZero() || f.FinishedAt.After(notAfter)) {
			continue
		}
		if !ok || newerFull(f, full) {
			full, ok = f, true
		}
	}
	if !ok {
		return BackupFile{}, nil, false
	}
	for _, f := range files {
		if f.Type == BackupLog && f.LastLSN.Cmp(full.LastLSN) > 0 {
			logs = append(logs, f)
		}
	}
	slices.SortStableFunc(logs, compareByLSNRange)
	return full, logs, true
}

// newerFull reports whether full backup a is newer than b.
func newerFull(a, b BackupFile) bool {
	if c := a.LastLSN.Cmp(b.LastLSN); c != 0 {
		return c > 0
	}
	if !a.FinishedAt.Equal(b.FinishedAt) {
		return a.FinishedAt.After(b.FinishedAt)
	}
	if a.Path != b.Path {
		return a.Path > b.Path
	}
	return a.Set() > b.Set()
}
