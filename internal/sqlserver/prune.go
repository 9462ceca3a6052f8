package sqlserver

import (
	"slices"
	"strings"
	"time"
)

// SelectPrunable returns the backup files that may be deleted: files older
// than retention (finished before now-retention) that no one needs. Files
// are grouped by database (case-insensitively); within a database these are
// always kept:
//
//   - files younger than retention, and files whose finish time is unknown;
//   - the newest full backup (LatestFull) and every log backup after it
//     (LastLSN beyond its LastLSN), so that a new standby can be seeded;
//   - every log backup a standby still needs: LastLSN > needed[database],
//     the lowest redo point of any standby of that database;
//   - the full backup those needed logs are based on: the newest full
//     backup whose LastLSN <= needed[database], so that the chain the
//     standbys rely on can be replayed from its start.
//
// A database missing from needed has no standby that needs old files. The
// result is ordered by database, then finish time, then path.
func SelectPrunable(files []BackupFile, now time.Time, retention time.Duration, needed map[string]LSN) []BackupFile {
	neededByDB := make(map[string]LSN, len(needed))
	for db, lsn := range needed {
		neededByDB[strings.ToLower(db)] = lsn
	}
	byDB := map[string][]BackupFile{}
	for _, f := range files {
		key := strings.ToLower(f.Database)
		byDB[key] = append(byDB[key], f)
	}
	cutoff := now.Add(-retention)
	var out []BackupFile
	for db, dbFiles := range byDB {
		redo, hasRedo := neededByDB[db]
		keep := keptFiles(dbFiles, redo, hasRedo)
		for i, f := range dbFiles {
			if keep[i] || f.FinishedAt.IsZero() || !f.FinishedAt.Before(cutoff) {
				continue
			}
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b BackupFile) int {
		if c := strings.Compare(strings.ToLower(a.Database), strings.ToLower(b.Database)); c != 0 {
			return c
		}
		if c := a.FinishedAt.Compare(b.FinishedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
	return out
}

// keptFiles marks the files of one database that must be kept whatever
// their age.
func keptFiles(files []BackupFile, redo LSN, hasRedo bool) []bool {
	keep := make([]bool, len(files))
	newest := -1 // newest full backup
	base := -1   // newest full backup with LastLSN <= redo
	for i, f := range files {
		if f.Type != BackupFull {
			continue
		}
		if newest < 0 || newerFull(f, files[newest]) {
			newest = i
		}
		if hasRedo && f.LastLSN.Cmp(redo) <= 0 && (base < 0 || newerFull(f, files[base])) {
			base = i
		}
	}
	if newest >= 0 {
		keep[newest] = true
	}
	if base >= 0 {
		keep[base] = true
	}
	for i, f := range files {
		if f.Type != BackupLog {
			continue
		}
		if newest >= 0 && f.LastLSN.Cmp(files[newest].LastLSN) > 0 {
			keep[i] = true
		}
		if hasRedo && f.LastLSN.Cmp(redo) > 0 {
			keep[i] = true
		}
	}
	return keep
}
