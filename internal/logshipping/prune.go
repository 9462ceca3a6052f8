package logshipping

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// Prune returns the files of the catalogue that may be deleted at now:
// older than retention and needed by nobody (sqlserver.SelectPrunable).
// needed maps each database to the lowest redo LSN of its standbys; the
// newest full backup and the logs after it are always kept.
func Prune(files Files, now time.Time, retention time.Duration, needed map[string]sqlserver.LSN) []sqlserver.BackupFile {
	var all []sqlserver.BackupFile
	for _, fs := range files {
		all = append(all, fs...)
	}
	return sqlserver.SelectPrunable(all, now, retention, needed)
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
