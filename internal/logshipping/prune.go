package logshipping

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// Prune returns the backup sets of the catalogue that may be deleted at
// now: older than retention and needed by nobody (sqlserver.SelectPrunable:
// every set of a returned file is returned). needed maps each database to
// the lowest redo LSN of its standbys; the newest full backup of the
// current recovery fork and everything after it are always kept.
func Prune(files Files, now time.Time, retention time.Duration, needed map[string]sqlserver.LSN) []sqlserver.BackupFile {
	var all []sqlserver.BackupFile
	for _, fs := range files {
		all = append(all, fs...)
	}
	return sqlserver.SelectPrunable(all, now, retention, needed)
}

// PrunablePaths returns the files to delete for Prune's sets: each path
// once, sorted.
func PrunablePaths(sets []sqlserver.BackupFile) []string {
	paths := make([]string, 0, len(sets))
	for _, f := range sets {
		paths = append(paths, f.Path)
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

// Expiry is what a prune Job deletes in one database directory: the backup
// files there (named by sqlserver.BackupFileName) whose name time is before
// Before. It is the whole input for a directory, whatever the length of the
// history: the Job lists the directory itself, so it deletes only what
// exists and its arguments never grow with time.
type Expiry struct {
	// Dir is the database's backup directory as the SQL Servers (and the
	// Job, which mounts the volume at the same path) see it.
	Dir string
	// Before is a whole second: files named at or after it stay.
	Before time.Time
}

// String is the Job argument: "<dir>=<RFC 3339 time>".
func (e Expiry) String() string { return e.Dir + "=" + e.Before.UTC().Format(time.RFC3339) }

// ParseExpiry reads Expiry.String's form (split at the last "=").
func ParseExpiry(s string) (Expiry, error) {
	i := strings.LastIndex(s, "=")
	if i <= 0 {
		return Expiry{}, fmt.Errorf("expiry %q: want <directory>=<RFC 3339 time>", s)
	}
	t, err := time.Parse(time.RFC3339, s[i+1:])
	if err != nil {
		return Expiry{}, fmt.Errorf("expiry %q: %w", s, err)
	}
	return Expiry{Dir: s[:i], Before: t.UTC()}, nil
}

// PlanExpiry turns retention's decision (sqlserver.DecidePrune, as Prune)
// into one Expiry per database directory with something to delete. Before
// is the name time of the oldest file that must stay, or just after the
// newest prunable file when nothing older stays, and never after
// now-retention: a prunable file named after a file that must stay is left
// for a later run (it goes once that file may go). Files whose names are
// not ours are never deleted by a Job and play no part.
//
// The boundary is derived from the files the catalogue knows. A file it
// does not know (in history mode, e.g. the old primary's backups after a
// failover) is deleted when it is named before the boundary: DecidePrune
// keeps every file of a database whose standby's chain the known files do
// not continue, so such files go only once no standby can need them.
func PlanExpiry(target Target, files Files, now time.Time, retention time.Duration, needed map[string]sqlserver.LSN) ([]Expiry, error) {
	cutoff := now.Add(-retention).UTC().Truncate(time.Second)
	dbs := make([]string, 0, len(files))
	for db := range files {
		dbs = append(dbs, db)
	}
	slices.Sort(dbs)
	var out []Expiry
	for _, db := range dbs {
		dir, err := target.Dir(db)
		if err != nil {
			return nil, err
		}
		var keepFrom, pruneTo time.Time
		prunable := 0
		for _, d := range sqlserver.DecidePrune(files[db], now, retention, needed) {
			for _, f := range d.Keep {
				if t, ok := nameTime(dir, f.Path); ok && (keepFrom.IsZero() || t.Before(keepFrom)) {
					keepFrom = t
				}
			}
			for _, f := range d.Prune {
				if t, ok := nameTime(dir, f.Path); ok {
					prunable++
					if t.After(pruneTo) {
						pruneTo = t
					}
				}
			}
		}
		if prunable == 0 {
			continue
		}
		before := pruneTo.Add(time.Second)
		if !keepFrom.IsZero() && keepFrom.Before(before) {
			before = keepFrom
		}
		if cutoff.Before(before) {
			before = cutoff
		}
		if !slices.ContainsFunc(files[db], func(f sqlserver.BackupFile) bool {
			t, ok := nameTime(dir, f.Path)
			return ok && t.Before(before)
		}) {
			continue // nothing known is old enough: the next run will see
		}
		out = append(out, Expiry{Dir: dir, Before: before})
	}
	return out, nil
}

// nameTime is the time in the name of a backup file directly in dir.
func nameTime(dir, p string) (time.Time, bool) {
	if path.Dir(p) != dir {
		return time.Time{}, false
	}
	t, _, _, err := sqlserver.ParseBackupFileName(path.Base(p))
	return t, err == nil
}

// ExpireFiles is what a prune Job runs with the backup volume mounted at
// root: in each Expiry's directory it lists the backup files (names of
// sqlserver.BackupFileName, regular files directly in the directory) and
// deletes those named before Before that were last modified before
// modifiedBefore (a file appended to since stays). A directory must be a
// database directory, <root>/<namespace>/<group>/<database>, so salvage
// files (one level deeper) and anything else are never touched; a missing
// directory has nothing to delete. Each deletion goes through DeleteFiles'
// checks. It returns the paths deleted; the error joins the refusals and
// failures.
func ExpireFiles(root string, expiries []Expiry, modifiedBefore time.Time) ([]string, error) {
	if !filepath.IsAbs(root) || filepath.Clean(root) != root {
		return nil, fmt.Errorf("expire backup files: root %q is not an absolute clean path", root)
	}
	if modifiedBefore.IsZero() {
		return nil, errors.New("expire backup files: no modification time bound")
	}
	var deleted []string
	var errs []error
	for _, e := range expiries {
		victims, err := expiredIn(root, e, modifiedBefore)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		d, err := DeleteFiles(root, victims)
		deleted = append(deleted, d...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return deleted, errors.Join(errs...)
}

// expiredIn lists the files of e.Dir that ExpireFiles deletes.
func expiredIn(root string, e Expiry, modifiedBefore time.Time) ([]string, error) {
	refuse := func(why string) error {
		return fmt.Errorf("expire backup files in %q: %s: %w", e.Dir, why, ErrOutsideRoot)
	}
	if !filepath.IsAbs(e.Dir) || filepath.Clean(e.Dir) != e.Dir {
		return nil, refuse("not an absolute clean path")
	}
	rel, err := filepath.Rel(root, e.Dir)
	if err != nil || !within(root, e.Dir) {
		return nil, refuse("outside " + root)
	}
	if parts := strings.Split(filepath.ToSlash(rel), "/"); len(parts) != 3 {
		return nil, refuse("not a database directory <root>/<namespace>/<group>/<database>")
	}
	if e.Before.IsZero() {
		return nil, refuse("no time bound")
	}
	entries, err := os.ReadDir(e.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("expire backup files in %s: %w", e.Dir, err)
	}
	var victims []string
	for _, ent := range entries {
		if !ent.Type().IsRegular() {
			continue
		}
		t, _, _, err := sqlserver.ParseBackupFileName(ent.Name())
		if err != nil || !t.Before(e.Before) {
			continue
		}
		info, err := ent.Info()
		if err != nil || !info.ModTime().Before(modifiedBefore) {
			continue // gone meanwhile, or written to since
		}
		victims = append(victims, filepath.Join(e.Dir, ent.Name()))
	}
	return victims, nil
}

// DeleteFiles deletes backup files for the prune subcommand, which runs in
// a Job that mounts the backup volume at root. Every path must be a backup
// file (.bak or .trn named by sqlserver.BackupFileName) strictly under root,
// also after resolving symbolic links; others are refused with
// ErrOutsideRoot and nothing outside root is ever touched. A file that is
// already gone counts as deleted (idempotent). It returns the paths
// deleted; the error joins the refusals and failures.
func DeleteFiles(root string, paths []string) ([]string, error) {
	if !filepath.IsAbs(root) {
		return nil, fmt.Errorf("delete backup files: root %q is not absolute", root)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("delete backup files: root: %w", err)
	}
	var deleted []string
	var errs []error
	for _, p := range paths {
		if err := checkUnder(root, realRoot, p); err != nil {
			errs = append(errs, err)
			continue
		}
		err := os.Remove(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("delete backup file %s: %w", p, err))
			continue
		}
		deleted = append(deleted, p)
	}
	return deleted, errors.Join(errs...)
}

// checkUnder refuses p unless it is a backup file strictly under root.
func checkUnder(root, realRoot, p string) error {
	refuse := func(why string) error {
		return fmt.Errorf("delete backup file %q: %s: %w", p, why, ErrOutsideRoot)
	}
	if !filepath.IsAbs(p) || filepath.Clean(p) != p {
		return refuse("not an absolute clean path")
	}
	if _, _, _, err := sqlserver.ParseBackupFileName(p); err != nil {
		return refuse("not a backup file name")
	}
	if !within(root, p) {
		return refuse("outside " + root)
	}
	// The directory may be a link out of the volume.
	realDir, err := filepath.EvalSymlinks(filepath.Dir(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing to delete
	}
	if err != nil {
		return refuse(err.Error())
	}
	if !within(realRoot, filepath.Join(realDir, filepath.Base(p))) {
		return refuse("resolves outside " + root)
	}
	if info, err := os.Lstat(p); err == nil && !info.Mode().IsRegular() {
		return refuse("not a regular file")
	}
	return nil
}

// within reports whether p is strictly below dir.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
