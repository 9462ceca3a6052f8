package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
)

// SetSingleUser puts db in SINGLE_USER mode WITH ROLLBACK IMMEDIATE: other
// sessions in db are disconnected and their transactions rolled back, so a
// restore can get exclusive access.
func (c *Client) SetSingleUser(ctx context.Context, db string) error {
	quoted, err := quoteDatabase(db)
	if err != nil {
		return fmt.Errorf("set single user: %w", err)
	}
	if err := c.exec(ctx, "ALTER DATABASE "+quoted+" SET SINGLE_USER WITH ROLLBACK IMMEDIATE"); err != nil {
		return fmt.Errorf("set database %s single user: %w", db, permissionDenied(err, "ALTER DATABASE "+quoted+" SET SINGLE_USER", needAlterDatabase, errNumAlterDatabaseDenied))
	}
	return nil
}

// SetMultiUser puts db back in MULTI_USER mode.
func (c *Client) SetMultiUser(ctx context.Context, db string) error {
	quoted, err := quoteDatabase(db)
	if err != nil {
		return fmt.Errorf("set multi user: %w", err)
	}
	if err := c.exec(ctx, "ALTER DATABASE "+quoted+" SET MULTI_USER"); err != nil {
		return fmt.Errorf("set database %s multi user: %w", db, permissionDenied(err, "ALTER DATABASE "+quoted+" SET MULTI_USER", needAlterDatabase, errNumAlterDatabaseDenied))
	}
	return nil
}

// DisconnectSessions KILLs every other user session that holds a lock on db
// and returns how many it killed: those whose current database is db, and
// those connected elsewhere whose transaction holds locks in db (a session
// in master that wrote Sales.dbo.t), found in sys.dm_tran_locks. Either
// kind makes RESTORE and a tail-log backup fail with 3101. It is the
// alternative to SetSingleUser for STANDBY databases, whose options cannot
// be changed on every SQL Server version.
func (c *Client) DisconnectSessions(ctx context.Context, db string) (int, error) {
	if err := ValidateDatabaseName(db); err != nil {
		return 0, fmt.Errorf("disconnect sessions: %w", err)
	}
	spids, err := c.sessionsUsing(ctx, db)
	if err != nil {
		return 0, fmt.Errorf("disconnect sessions of %s on %s: %w", db, c.Address(), err)
	}
	killed := 0
	for _, id := range spids {
		// KILL takes no parameter; id is an integer read from the server.
		err := c.exec(ctx, fmt.Sprintf("KILL %d", id))
		if err != nil && !HasErrorNumber(err, errNumKillUnknownSession) {
			return killed, fmt.Errorf("disconnect sessions of %s: kill session %d: %w", db, id, permissionDenied(err, "KILL", needAlterConnection))
		}
		if err == nil {
			killed++
		}
	}
	return killed, nil
}

// sessionsUsing lists the other user sessions in db or holding locks in it, each once.
func (c *Client) sessionsUsing(ctx context.Context, db string) ([]int64, error) {
	var spids []int64
	seen := map[int64]bool{}
	collect := func(r *sql.Rows) error {
		var id int64
		if err := r.Scan(&id); err != nil {
			return err
		}
		if !seen[id] {
			seen[id] = true
			spids = append(spids, id)
		}
		return nil
	}
	if err := c.query(ctx, collect, `SELECT s.session_id FROM sys.dm_exec_sessions s
	    WHERE s.database_id = DB_ID(@p1) AND s.is_user_process = 1 AND s.session_id <> @@SPID`, db); err != nil {
		return nil, fmt.Errorf("sessions in the database: %w", err)
	}
	if err := c.query(ctx, collect, `SELECT l.request_session_id FROM sys.dm_tran_locks l
	    JOIN sys.dm_exec_sessions s ON s.session_id = l.request_session_id
	    WHERE l.resource_database_id = DB_ID(@p1) AND s.is_user_process = 1 AND l.request_session_id <> @@SPID`, db); err != nil {
		return nil, fmt.Errorf("sessions holding locks in the database (sys.dm_tran_locks): %w", permissionDenied(err, "SELECT FROM sys.dm_tran_locks", needViewServerState))
	}
	return spids, nil
}

// errNumKillUnknownSession (6106): the session ended before KILL reached it.
const errNumKillUnknownSession = 6106
