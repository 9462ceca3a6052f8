package logshipping

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// Files is a group's backup catalogue: the backup files of each database,
// keyed by database name as configured.
type Files map[string][]sqlserver.BackupFile

// Newest returns the newest backup of db (by finish time) and whether there
// is one.
func (f Files) Newest(db string) (sqlserver.BackupFile, bool) {
	var newest sqlserver.BackupFile
	found := false
	for _, b := range f[db] {
		if !found || b.FinishedAt.After(newest.FinishedAt) {
			newest, found = b, true
		}
	}
	return newest, found
}

// FileError is a backup file that could not be catalogued (a backup still
// being written, a corrupt file, a file of another database). It is left
// out of the listing and read again next time.
type FileError struct {
	Path string
	Err  error
}

func (e FileError) Error() string { return fmt.Sprintf("backup file %s: %v", e.Path, e.Err) }

// Unwrap returns the cause.
func (e FileError) Unwrap() error { return e.Err }

// Catalogue lists the backup sets of a target with their LSN ranges: one
// entry per set, so a file holding several sets (a BACKUP without INIT
// appends one) gives one entry per set, each with its Position for RESTORE
// ... WITH FILE = n. It caches each file's headers by path (and size and
// modification time when the operator sees the file), so every file is read
// through RESTORE HEADERONLY once, and again when it grows. Keep one Catalogue per group for the operator's
// lifetime; it is safe for concurrent use.
type Catalogue struct {
	mu      sync.Mutex
	headers map[string]cachedHeader
	// lastHistory is, per database directory, the last listing read from a msdb history plus the
	// backups written since (when the operator cannot see the directory): what ForPromotion adds
	// to a candidate's own history, which never holds the old primary's backups.
	lastHistory map[string][]sqlserver.BackupFile
	// historyFrom is, per database directory, when the oldest backup set the last prune decision
	// kept finished (KeepHistoryFrom): fromHistory reads msdb from there. Missing: from the start.
	historyFrom map[string]time.Time
}

type cachedHeader struct {
	size    int64
	modTime time.Time
	sets    []sqlserver.BackupFile
}

// NewCatalogue returns an empty catalogue.
func NewCatalogue() *Catalogue {
	return &Catalogue{headers: map[string]cachedHeader{}, lastHistory: map[string][]sqlserver.BackupFile{}, historyFrom: map[string]time.Time{}}
}

// KeepHistoryFrom tells the catalogue that no backup set of db in target that finished before t is
// needed any more: t is when the oldest set the prune decision keeps finished (HistoryFloors), so
// what retention keeps, the newest full backup of the current fork and what every standby still
// restores all finished at or after it. A listing from msdb then reads the history from t less
// historyMargin instead of all of it. A zero t reads all of it again.
func (c *Catalogue) KeepHistoryFrom(target Target, db string, t time.Time) error {
	dir, err := target.Dir(db)
	if err != nil {
		return fmt.Errorf("catalogue of %s: %w", db, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.historyFrom == nil {
		c.historyFrom = map[string]time.Time{}
	}
	if t.IsZero() {
		delete(c.historyFrom, dir)
	} else {
		c.historyFrom[dir] = t
	}
	return nil
}

// historySince is where fromHistory reads the msdb history of serverDir from.
func (c *Catalogue) historySince(serverDir string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.historyFrom[serverDir]
	if !ok {
		return time.Time{}
	}
	return t.Add(-historyMargin)
}

// List returns the backup files of db in target, oldest first.
//
// When target.LocalRoot is set, the database's directory is listed on the
// operator's file system and the header of each new file is read through
// reader (any instance that sees the volume, e.g. a standby while the
// primary is down). Otherwise the files are the backups recorded in
// reader's msdb history (reader must then be the primary; a deleted file
// is only noticed when a restore fails). Unreadable files are returned in
// the second value, not as an error; the error is for failures that make
// the whole listing unusable.
func (c *Catalogue) List(ctx context.Context, reader *sqlserver.Client, target Target, db string) ([]sqlserver.BackupFile, []FileError, error) {
	if err := target.Validate(); err != nil {
		return nil, nil, err
	}
	serverDir, err := target.Dir(db)
	if err != nil {
		return nil, nil, fmt.Errorf("catalogue of %s: %w", db, err)
	}
	var files []sqlserver.BackupFile
	var bad []FileError
	if target.LocalRoot == "" {
		files, err = c.fromHistory(ctx, reader, serverDir, db)
	} else {
		files, bad, err = c.fromDirectory(ctx, reader, target, serverDir, db)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("catalogue of %s: %w", db, err)
	}
	sortFiles(files)
	return files, bad, nil
}

// ListAll lists every database of dbs; see List.
func (c *Catalogue) ListAll(ctx context.Context, reader *sqlserver.Client, target Target, dbs []string) (Files, []FileError, error) {
	out := make(Files, len(dbs))
	var bad []FileError
	for _, db := range dbs {
		files, b, err := c.List(ctx, reader, target, db)
		if err != nil {
			return nil, nil, err
		}
		out[db] = files
		bad = append(bad, b...)
	}
	return out, bad, nil
}

// ForPromotion lists the backups a candidate should apply before it is
// recovered after an unplanned failover, when the old primary is gone. With
// a view of the directory it is ListAll through the candidate. Without one,
// the candidate's msdb history does not hold the old primary's backups: the
// listing the operator last read through the old primary (and the backups it
// wrote since) is added, so log backups shipped but not yet restored are
// applied instead of lost. After an operator restart that memory is empty
// and only the candidate's history is used (the standby then promotes at the
// last backup its schedule restored).
func (c *Catalogue) ForPromotion(ctx context.Context, candidate *sqlserver.Client, target Target, dbs []string) (Files, []FileError, error) {
	if target.LocalRoot != "" {
		return c.ListAll(ctx, candidate, target, dbs)
	}
	// Taken before listing: reading the candidate's history replaces the memory.
	remembered := map[string][]sqlserver.BackupFile{}
	c.mu.Lock()
	for dir, files := range c.lastHistory {
		remembered[dir] = files
	}
	c.mu.Unlock()
	files, bad, err := c.ListAll(ctx, candidate, target, dbs)
	if err != nil {
		return nil, nil, err
	}
	for _, db := range dbs {
		dir, err := target.Dir(db)
		if err != nil {
			return nil, nil, err
		}
		files[db] = mergeBySet(files[db], remembered[dir])
	}
	return files, bad, nil
}

// setKey names one backup set: its file and position.
type setKey struct {
	path string
	set  int
}

func keyOf(f sqlserver.BackupFile) setKey { return setKey{f.Path, f.Set()} }

// mergeBySet returns the sets of a and b, one per file and position (a's
// when both have it), oldest first.
func mergeBySet(a, b []sqlserver.BackupFile) []sqlserver.BackupFile {
	seen := make(map[setKey]bool, len(a))
	out := make([]sqlserver.BackupFile, 0, len(a)+len(b))
	for _, f := range a {
		seen[keyOf(f)] = true
		out = append(out, f)
	}
	for _, f := range b {
		if !seen[keyOf(f)] {
			seen[keyOf(f)] = true
			out = append(out, f)
		}
	}
	sortFiles(out)
	return out
}

func sortFiles(files []sqlserver.BackupFile) {
	slices.SortStableFunc(files, func(a, b sqlserver.BackupFile) int {
		if c := a.FinishedAt.Compare(b.FinishedAt); c != 0 {
			return c
		}
		if c := a.FirstLSN.Cmp(b.FirstLSN); c != 0 {
			return c
		}
		return a.Set() - b.Set()
	})
}

// Remember adds the headers of one file the caller has already read
// (RunBackups reads the header of each file it writes), so List does not
// read it again. sets are every backup set of the file, as ReadHeader
// returns them.
func (c *Catalogue) Remember(target Target, sets ...sqlserver.BackupFile) {
	if len(sets) == 0 {
		return
	}
	p := sets[0].Path
	if target.LocalRoot == "" {
		c.mu.Lock()
		defer c.mu.Unlock()
		dir := path.Dir(p)
		if c.lastHistory == nil {
			c.lastHistory = map[string][]sqlserver.BackupFile{}
		}
		c.lastHistory[dir] = mergeBySet(c.lastHistory[dir], sets)
		return
	}
	info, err := os.Stat(target.toLocal(p))
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.headers[p] = cachedHeader{size: info.Size(), modTime: info.ModTime(), sets: append([]sqlserver.BackupFile(nil), sets...)}
}

// fromDirectory lists the operator's view of the database directory.
func (c *Catalogue) fromDirectory(ctx context.Context, reader *sqlserver.Client, target Target, serverDir, db string) ([]sqlserver.BackupFile, []FileError, error) {
	entries, err := os.ReadDir(target.toLocal(serverDir))
	if errors.Is(err, fs.ErrNotExist) {
		c.forgetUnder(serverDir, nil)
		return nil, nil, nil // no backup yet
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list backup directory: %w", err)
	}
	var files []sqlserver.BackupFile
	var bad []FileError
	seen := map[string]bool{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if _, _, _, err := sqlserver.ParseBackupFileName(e.Name()); err != nil {
			continue // not one of ours (undo files, temporary files)
		}
		info, err := e.Info()
		if err != nil {
			continue // deleted meanwhile
		}
		serverPath := path.Join(serverDir, e.Name())
		seen[serverPath] = true
		sets, err := c.header(ctx, reader, serverPath, db, info)
		if err != nil {
			bad = append(bad, FileError{Path: serverPath, Err: err})
			continue
		}
		files = append(files, sets...)
	}
	c.forgetUnder(serverDir, seen)
	return files, bad, nil
}

// header returns the cached backup sets of serverPath or reads them: every
// full and log backup set of the file (other kinds, e.g. differential sets,
// are left out). A file holding a set of another database, or no full or
// log set, is an error: it is not catalogued (and so never pruned).
func (c *Catalogue) header(ctx context.Context, reader *sqlserver.Client, serverPath, db string, info fs.FileInfo) ([]sqlserver.BackupFile, error) {
	c.mu.Lock()
	h, ok := c.headers[serverPath]
	c.mu.Unlock()
	if ok && h.size == info.Size() && h.modTime.Equal(info.ModTime()) {
		return h.sets, nil
	}
	if reader == nil {
		return nil, errors.New("no SQL Server to read the header through")
	}
	headers, err := reader.ReadHeader(ctx, serverPath)
	if err != nil {
		return nil, err
	}
	sets, err := usableSets(headers, serverPath, db)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.headers[serverPath] = cachedHeader{size: info.Size(), modTime: info.ModTime(), sets: sets}
	c.mu.Unlock()
	return sets, nil
}

// usableSets turns the headers of the file at serverPath into catalogue
// entries, one per full or log backup set of db.
func usableSets(headers []sqlserver.BackupHeader, serverPath, db string) ([]sqlserver.BackupFile, error) {
	var sets []sqlserver.BackupFile
	for _, h := range headers {
		if !strings.EqualFold(h.DatabaseName, db) {
			return nil, fmt.Errorf("set %d holds a backup of database %s, not %s", h.Position, h.DatabaseName, db)
		}
		if h.Type == sqlserver.BackupOther {
			continue
		}
		f := h.File(serverPath)
		f.FinishedAt = f.FinishedAt.UTC()
		sets = append(sets, f)
	}
	if len(sets) == 0 {
		return nil, fmt.Errorf("no full or log backup set (backup type %d)", headers[len(headers)-1].RawBackupType)
	}
	return sets, nil
}

// forgetUnder drops cached headers of files in dir that were not seen.
func (c *Catalogue) forgetUnder(dir string, seen map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p := range c.headers {
		if path.Dir(p) == dir && !seen[p] {
			delete(c.headers, p)
		}
	}
}

// fromHistory lists the backups recorded in reader's msdb that were
// written to the database's directory of the target, from the oldest one the
// last prune decision kept (KeepHistoryFrom; all of them before the first).
func (c *Catalogue) fromHistory(ctx context.Context, reader *sqlserver.Client, serverDir, db string) ([]sqlserver.BackupFile, error) {
	if reader == nil {
		return nil, errors.New("no SQL Server to read the backup history from")
	}
	history, err := reader.BackupHistory(ctx, db, c.historySince(serverDir))
	if err != nil {
		return nil, err
	}
	var files []sqlserver.BackupFile
	for _, r := range history {
		if path.Dir(r.Path) != serverDir {
			continue
		}
		files = append(files, r.BackupFile)
	}
	if len(files) > 0 {
		c.mu.Lock()
		if c.lastHistory == nil {
			c.lastHistory = map[string][]sqlserver.BackupFile{}
		}
		c.lastHistory[serverDir] = append([]sqlserver.BackupFile(nil), files...)
		c.mu.Unlock()
	}
	return files, nil
}
