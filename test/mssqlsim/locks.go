package mssqlsim

import "strings"

// Locks, as far as exclusive access to a database is concerned. Every session holds a shared
// DATABASE lock on its current database. A session inside a transaction also holds the locks of
// what it wrote, in whatever database that was: a session in master that ran
// "BEGIN TRAN; UPDATE Sales.dbo.t ..." holds locks in Sales, so RESTORE of Sales fails with 3101
// until it commits, rolls back or is killed, although its current database is master. Reads under
// READ COMMITTED release their locks at the end of the statement, so they hold nothing.

// lockedDatabases is the databases s holds locks in besides its current one: those its open
// transaction wrote to.
func (s *session) lockedDatabases() []*database {
	if s.tranCount == 0 {
		return nil
	}
	var out []*database
	for _, p := range s.pending {
		if !containsDB(out, p.db) && !strings.EqualFold(p.db.Name, s.database) {
			out = append(out, p.db)
		}
	}
	return out
}

// usesDatabase reports whether s holds a lock on d: its current database, or one its open
// transaction wrote to.
func (s *session) usesDatabase(d *database) bool {
	return strings.EqualFold(s.database, d.Name) || containsDB(s.lockedDatabases(), d)
}

func containsDB(list []*database, d *database) bool {
	for _, x := range list {
		if x == d {
			return true
		}
	}
	return false
}

// sysDmTranLocks is sys.dm_tran_locks, reduced to the rows that matter for exclusive access: a
// shared DATABASE lock per session on its current database, and per database its open transaction
// wrote to a shared DATABASE lock and an intent-exclusive OBJECT lock.
func (ec *execCtx) sysDmTranLocks() relation {
	r := relation{Cols: cols(
		"resource_type", nvarchar(60), "resource_database_id", typeInt, "request_mode", nvarchar(60),
		"request_type", nvarchar(60), "request_status", nvarchar(60), "request_session_id", typeInt,
	)}
	add := func(s *session, kind string, d *database, mode string) {
		r.Rows = append(r.Rows, []Value{strValue(kind), intValue(int64(d.ID)), strValue(mode),
			strValue("LOCK"), strValue("GRANT"), intValue(int64(s.spid))})
	}
	for _, s := range ec.in.sortedSessions() {
		if d := ec.in.db(s.database); d != nil {
			add(s, "DATABASE", d, "S")
		}
		for _, d := range s.lockedDatabases() {
			add(s, "DATABASE", d, "S")
			add(s, "OBJECT", d, "IX")
		}
	}
	return r
}
