package sqlserver

import (
	"path"
	"slices"
	"strings"
	"time"
)

// PruneDecision is what retention decides for the backups of one database:
// the sets that may be deleted and the sets that must stay. A file is
// deleted whole, so every set of a file is on the same side.
type PruneDecision struct {
	// Database is the name as found in the files (first seen spelling).
	Database string
	// Prune and Keep are ordered by finish time, then path and set.
	Prune, Keep []BackupFile
}

// SelectPrunable returns the backup sets that may be deleted
// (DecidePrune's Prune of every database), ordered by database, then
// finish time, then path. Every set of a returned file is returned.
func SelectPrunable(files []BackupFile, now time.Time, retention time.Duration, needed map[string]LSN) []BackupFile {
	var out []BackupFile
	for _, d := range DecidePrune(files, now, retention, needed) {
		out = append(out, d.Prune...)
	}
	return out
}

// DecidePrune splits the backup sets of each database (grouped
// case-insensitively) into those that may be deleted and those that must
// stay, at now. A set may be deleted when it finished before now-retention
// and nobody needs it; these are always kept:
//
//   - sets younger than retention, and sets whose finish time is unknown;
//   - salvage files (IsSalvagePath): never pruned automatically;
//   - the newest full backup of the current recovery fork, and everything
//     after it whatever its age: every set that finished after it and every
//     log backup of that fork beyond its LastLSN. The current fork is the
//     fork (ForkID) of the newest backup, the chain the current primary
//     writes: after a failover the new primary's first full backup is kept
//     even when the abandoned fork holds a full backup with higher LSNs.
//     Without fork ids (older catalogues) the full backup with the highest
//     LastLSN is taken; with fork ids but no full backup on the current fork
//     yet, the full backup that finished last;
//   - what the standbys need, from needed[database], the lowest redo point
//     of any standby of that database: every log backup with LastLSN beyond
//     it, and the full backup those logs are based on (the newest full
//     backup with LastLSN <= redo, one of the current fork when there is
//     one). When the current fork's fork point P is known (from the log
//     backup that spans it), a redo point at or past P needs only the
//     current fork's files, and one before P needs the older fork's logs
//     that start before P, not what an abandoned fork wrote after it. A
//     redo point of zero (a standby whose position is
//     unknown), or one from which the known log backups do not continue (a
//     gap: files this catalogue does not see, e.g. the old primary's logs
//     after a failover), keeps every file of the database;
//   - every set of a file with a set that is kept.
//
// A database missing from needed has no standby that needs old files, so
// the files of an abandoned fork go once they are past retention and no
// standby's redo point needs them.
func DecidePrune(files []BackupFile, now time.Time, retention time.Duration, needed map[string]LSN) []PruneDecision {
	neededByDB := make(map[string]LSN, len(needed))
	for db, lsn := range needed {
		neededByDB[strings.ToLower(db)] = lsn
	}
	byDB := map[string][]BackupFile{}
	var order []string
	for _, f := range files {
		key := strings.ToLower(f.Database)
		if _, ok := byDB[key]; !ok {
			order = append(order, key)
		}
		byDB[key] = append(byDB[key], f)
	}
	slices.Sort(order)
	cutoff := now.Add(-retention)
	var out []PruneDecision
	for _, db := range order {
		dbFiles := byDB[db]
		redo, hasRedo := neededByDB[db]
		keep := keptFiles(dbFiles, redo, hasRedo)
		keptPath := map[string]bool{}
		for i, f := range dbFiles {
			if keep[i] || f.FinishedAt.IsZero() || !f.FinishedAt.Before(cutoff) || IsSalvagePath(f.Path) {
				keptPath[f.Path] = true
			}
		}
		d := PruneDecision{Database: dbFiles[0].Database}
		for _, f := range dbFiles {
			if keptPath[f.Path] {
				d.Keep = append(d.Keep, f)
			} else {
				d.Prune = append(d.Prune, f)
			}
		}
		sortForPrune(d.Keep)
		sortForPrune(d.Prune)
		out = append(out, d)
	}
	return out
}

func sortForPrune(files []BackupFile) {
	slices.SortFunc(files, func(a, b BackupFile) int {
		if c := a.FinishedAt.Compare(b.FinishedAt); c != 0 {
			return c
		}
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return a.Set() - b.Set()
	})
}

// IsSalvagePath reports whether p is in a salvage directory
// (<root>/<namespace>/<group>/salvage/<database>/<file>, see SalvagePath).
// A database directory of a group named "salvage" is taken for one too,
// which only ever keeps more.
func IsSalvagePath(p string) bool {
	return path.Base(path.Dir(path.Dir(p))) == salvageDir
}

// currentFork is the fork of the newest backup (by finish time, then
// LastLSN), or "" when no file carries a fork id.
func currentFork(files []BackupFile) string {
	var newest *BackupFile
	for i := range files {
		f := &files[i]
		if f.ForkID == "" || IsSalvagePath(f.Path) {
			continue
		}
		if newest == nil || f.FinishedAt.After(newest.FinishedAt) || (f.FinishedAt.Equal(newest.FinishedAt) && newest.LastLSN.Less(f.LastLSN)) {
			newest = f
		}
	}
	if newest == nil {
		return ""
	}
	return newest.ForkID
}

// keptFiles marks the sets of one database that must be kept whatever
// their age (see DecidePrune).
func keptFiles(files []BackupFile, redo LSN, hasRedo bool) []bool {
	keep := make([]bool, len(files))
	if hasRedo {
		if redo.IsZero() {
			return everything(keep)
		}
		if _, gap := PlanLogRestores(redo, files, time.Time{}); gap != nil {
			return everything(keep)
		}
	}
	fork := currentFork(files)
	onFork := func(f BackupFile) bool { return fork == "" || f.ForkID == fork }
	var forkPoint *LSN
	if p, ok := forkPointOf(files, fork); ok {
		forkPoint = &p
	}
	anchor := -1 // newest full backup of the current fork
	for i, f := range files {
		if f.Type != BackupFull || IsSalvagePath(f.Path) || !onFork(f) {
			continue
		}
		if anchor < 0 || newerFull(f, files[anchor]) {
			anchor = i
		}
	}
	if anchor < 0 && fork != "" {
		// No full backup on the current fork yet: the one that finished last.
		for i, f := range files {
			if f.Type == BackupFull && !IsSalvagePath(f.Path) && (anchor < 0 || f.FinishedAt.After(files[anchor].FinishedAt)) {
				anchor = i
			}
		}
	}
	base := -1 // full backup the standbys' logs are based on
	if hasRedo {
		passes := []bool{true, false}
		if forkPoint != nil && !redo.Less(*forkPoint) {
			passes = passes[:1] // past the fork point only the current fork's fulls can serve
		}
		for _, currentOnly := range passes {
			for i, f := range files {
				if f.Type != BackupFull || f.LastLSN.Cmp(redo) > 0 || (currentOnly && (fork == "" || f.ForkID != fork)) {
					continue
				}
				if base < 0 || newerFull(f, files[base]) {
					base = i
				}
			}
			if base >= 0 {
				break
			}
		}
	}
	if anchor >= 0 {
		keep[anchor] = true
	}
	if base >= 0 {
		keep[base] = true
	}
	for i, f := range files {
		if anchor >= 0 {
			a := files[anchor]
			if f.FinishedAt.After(a.FinishedAt) || (f.Type == BackupLog && onFork(f) && f.LastLSN.Cmp(a.LastLSN) > 0) {
				keep[i] = true
			}
		}
		if hasRedo && f.Type == BackupLog && f.LastLSN.Cmp(redo) > 0 && neededFrom(f, redo, fork, forkPoint) {
			keep[i] = true
		}
	}
	return keep
}

// forkPointOf returns where fork branched off (the ForkPointLSN of the log
// backup that spans into it), if a file shows it.
func forkPointOf(files []BackupFile, fork string) (LSN, bool) {
	if fork == "" {
		return LSN{}, false
	}
	for _, f := range files {
		if f.ForkID == fork && f.FirstForkID != "" && f.FirstForkID != fork && !f.ForkPointLSN.IsZero() {
			return f.ForkPointLSN, true
		}
	}
	return LSN{}, false
}

// neededFrom reports whether log backup f (LastLSN beyond redo) may be
// needed by a standby at redo. Without fork information every such log may
// be. With the current fork's fork point P known: a standby at or past P
// continues on the current fork (or, diverged, is reseeded from it), so only
// the current fork's logs count; one before P needs the older fork's logs
// up to P and then the current fork's, not the logs an abandoned fork
// wrote past P.
func neededFrom(f BackupFile, redo LSN, fork string, forkPoint *LSN) bool {
	if fork == "" || forkPoint == nil || f.ForkID == "" || f.ForkID == fork {
		return true
	}
	return redo.Less(*forkPoint) && f.FirstLSN.Less(*forkPoint)
}

func everything(keep []bool) []bool {
	for i := range keep {
		keep[i] = true
	}
	return keep
}
