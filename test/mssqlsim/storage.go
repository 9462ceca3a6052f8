package mssqlsim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
)

// errCrashed is returned by storage writes after Server.Crash: nothing that
// was not durable before the crash may reach the disk afterwards.
var errCrashed = errors.New("mssqlsim: server crashed; storage is read-only")

// storage persists the instance in its data directory:
//
//	<dir>/instance.json              instance metadata, logins, msdb history
//	<dir>/db/<id>/log-<gen>.jsonl    log records of a database, one per line
//
// Every write that is acknowledged to a client is fsynced first.
type storage struct {
	dir      string
	disabled atomic.Bool
}

func newStorage(dir string) (*storage, error) {
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o755); err != nil {
		return nil, fmt.Errorf("creating data directory %s: %w", dir, err)
	}
	return &storage{dir: dir}, nil
}

func (s *storage) instancePath() string { return filepath.Join(s.dir, "instance.json") }

func (s *storage) logPath(dbID, gen int) string {
	return filepath.Join(s.dir, "db", strconv.Itoa(dbID), fmt.Sprintf("log-%d.jsonl", gen))
}

// writeFileAtomic writes data to path through a temporary file, fsync and
// rename, then fsyncs the directory.
func (s *storage) writeFileAtomic(path string, data []byte) error {
	if s.disabled.Load() {
		return errCrashed
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("creating %s: %w", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if s.disabled.Load() {
		os.Remove(tmp)
		return errCrashed
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming %s: %w", tmp, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

func (s *storage) saveInstance(st *instanceState) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding instance state: %w", err)
	}
	return s.writeFileAtomic(s.instancePath(), data)
}

// loadInstance returns nil, nil when the data directory is new.
func (s *storage) loadInstance() (*instanceState, error) {
	data, err := os.ReadFile(s.instancePath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading instance state: %w", err)
	}
	var st instanceState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", s.instancePath(), err)
	}
	return &st, nil
}

func encodeRecords(recs []logRecord) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return nil, fmt.Errorf("encoding log record at LSN %s: %w", r.LSN, err)
		}
	}
	return buf.Bytes(), nil
}

// appendRecords durably appends records to a database log.
func (s *storage) appendRecords(dbID, gen int, recs []logRecord) error {
	if s.disabled.Load() {
		return errCrashed
	}
	data, err := encodeRecords(recs)
	if err != nil {
		return err
	}
	path := s.logPath(dbID, gen)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening log %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("appending to log %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing log %s: %w", path, err)
	}
	return nil
}

// writeLog replaces a database log generation with records.
func (s *storage) writeLog(dbID, gen int, recs []logRecord) error {
	data, err := encodeRecords(recs)
	if err != nil {
		return err
	}
	return s.writeFileAtomic(s.logPath(dbID, gen), data)
}

// readLog reads the records of a log generation. A torn last line (a crash
// during an append that was never acknowledged) is ignored.
func (s *storage) readLog(dbID, gen int) ([]logRecord, error) {
	path := s.logPath(dbID, gen)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading log %s: %w", path, err)
	}
	var out []logRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r logRecord
		if err := json.Unmarshal(line, &r); err != nil {
			break // torn tail
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *storage) removeDatabase(dbID int) error {
	if s.disabled.Load() {
		return errCrashed
	}
	return os.RemoveAll(filepath.Join(s.dir, "db", strconv.Itoa(dbID)))
}

func (s *storage) removeLog(dbID, gen int) {
	if !s.disabled.Load() {
		os.Remove(s.logPath(dbID, gen))
	}
}
