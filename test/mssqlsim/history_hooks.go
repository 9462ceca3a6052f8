package mssqlsim

import (
	"fmt"
	"time"
)

// Test hooks around msdb's history: what the statements returned, and history made older.

// Statement is one statement the server ran, as an observer sees it.
type Statement struct {
	// Text is the statement's source text.
	Text string
	// Rows is the row count of its DONE token: the rows a SELECT returned.
	Rows int64
	// Failed is set when it ended with an error.
	Failed bool
}

// ObserveStatements calls f after every statement of every session (f must be safe for concurrent
// use; it runs on the session's goroutine, outside the instance lock). A nil f stops observing.
func (s *Server) ObserveStatements(f func(Statement)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.observer = f
}

func (s *Server) observe(st Statement) {
	s.mu.Lock()
	f := s.observer
	s.mu.Unlock()
	if f != nil {
		f(st)
	}
}

// AgeHistory moves every msdb history date (backupset's backup_start_date and
// backup_finish_date, restorehistory's restore_date) d into the past, as if those backups and
// restores had run d earlier; the backup files and their headers are left as they are. It lets a
// test hold weeks of history without waiting for them.
func (s *Server) AgeHistory(d time.Duration) error {
	in := s.inst
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := range in.backupSets {
		in.backupSets[i].StartDate = in.backupSets[i].StartDate.Add(-d)
		in.backupSets[i].FinishDate = in.backupSets[i].FinishDate.Add(-d)
	}
	for i := range in.restoreHistory {
		in.restoreHistory[i].RestoreDate = in.restoreHistory[i].RestoreDate.Add(-d)
	}
	if err := in.saveLocked(); err != nil {
		return fmt.Errorf("mssqlsim: aging history: %w", err)
	}
	return nil
}

// HistoryRows counts the rows of msdb.dbo.backupset, backupmediafamily and restorehistory.
func (s *Server) HistoryRows() (backupSets, mediaFamilies, restores int) {
	in := s.inst
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.backupSets), len(in.mediaFamilies), len(in.restoreHistory)
}
