package mssqlsim

import (
	"database/sql"
	"testing"
)

// headerRow is the part of a RESTORE HEADERONLY row these tests look at.
type headerRow struct {
	position            int64
	typ                 int64
	first, last         string
	forkID, firstForkID string
	forkPoint           sql.NullString
}

func readHeaders(t *testing.T, db *sql.DB, query string, args ...any) []headerRow {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []headerRow
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var h headerRow
		for i, c := range cols {
			switch v := vals[i].(type) {
			case int64:
				switch c {
				case "Position":
					h.position = v
				case "BackupType":
					h.typ = v
				}
			case string:
				switch c {
				case "RecoveryForkID":
					h.forkID = v
				case "FirstRecoveryForkID":
					h.firstForkID = v
				}
			case []byte:
				switch c {
				case "FirstLSN":
					h.first = string(v)
				case "LastLSN":
					h.last = string(v)
				case "ForkPointLSN":
					h.forkPoint = sql.NullString{String: string(v), Valid: true}
				}
			}
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// BACKUP without INIT appends a set to an existing file: HEADERONLY returns
// one row per set with its Position, WITH FILE = n picks one, msdb records
// every set with its position under the media set of the file, and each set
// restores with FILE = n.
func TestAppendedBackupSets(t *testing.T) {
	p := newShippingPair(t)
	p.insert(t, 2)
	full, logs := p.path("full.bak"), p.path("logs.trn")
	mustExec(t, p.srcDB, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT", full)
	for i := 0; i < 3; i++ {
		p.insert(t, 1)
		mustExec(t, p.srcDB, "BACKUP LOG shop TO DISK = @p1", logs) // NOINIT: sets 1, 2, 3
	}
	hs := readHeaders(t, p.dstDB, "RESTORE HEADERONLY FROM DISK = @p1", logs)
	if len(hs) != 3 {
		t.Fatalf("HEADERONLY returned %d rows, want 3", len(hs))
	}
	for i, h := range hs {
		if h.position != int64(i+1) || h.typ != 2 {
			t.Fatalf("row %d: position %d type %d", i, h.position, h.typ)
		}
		if i > 0 && h.first != hs[i-1].last {
			t.Fatalf("set %d starts at %s, set %d ends at %s", i+1, h.first, i, hs[i-1].last)
		}
	}
	if one := readHeaders(t, p.dstDB, "RESTORE HEADERONLY FROM DISK = @p1 WITH FILE = @p2", logs, 2); len(one) != 1 || one[0].position != 2 || one[0].first != hs[1].first {
		t.Fatalf("HEADERONLY WITH FILE = 2: %+v", one)
	}
	_, err := p.dstDB.Exec("RESTORE HEADERONLY FROM DISK = @p1 WITH FILE = 4", logs)
	if me := sqlError(t, err); !containsNumber(me, 3206) {
		t.Fatalf("HEADERONLY WITH FILE = 4: %v", errorNumbers(me))
	}

	rows, err := p.srcDB.Query(`SELECT bs.position, bs.media_set_id, bs.first_lsn FROM msdb.dbo.backupset bs
		JOIN msdb.dbo.backupmediafamily bmf ON bmf.media_set_id = bs.media_set_id
		WHERE bmf.physical_device_name = @p1 ORDER BY bs.backup_set_id`, logs)
	if err != nil {
		t.Fatal(err)
	}
	var positions []int64
	media := map[int64]bool{}
	for rows.Next() {
		var pos, mediaID int64
		var first string
		if err := rows.Scan(&pos, &mediaID, &first); err != nil {
			t.Fatal(err)
		}
		if first != hs[len(positions)].first {
			t.Fatalf("backupset row %d first_lsn %s, header says %s", len(positions)+1, first, hs[len(positions)].first)
		}
		positions = append(positions, pos)
		media[mediaID] = true
	}
	rows.Close()
	if len(positions) != 3 || positions[0] != 1 || positions[2] != 3 || len(media) != 1 {
		t.Fatalf("backupset positions %v in %d media sets, want 1..3 in one", positions, len(media))
	}

	mustExec(t, p.dstDB, "RESTORE DATABASE shop FROM DISK = @p1 WITH NORECOVERY", full)
	for n := 1; n <= 3; n++ {
		mustExec(t, p.dstDB, "RESTORE LOG shop FROM DISK = @p1 WITH FILE = @p2, NORECOVERY", logs, n)
	}
	mustExec(t, p.dstDB, "RESTORE DATABASE shop WITH RECOVERY")
	if got, want := p.count(t, p.dstDB), p.count(t, p.srcDB); got != want {
		t.Fatalf("after restoring every set: %d rows, primary has %d", got, want)
	}
}

// A recovery starts a new fork: the first log backup after it starts on the
// old fork and ends on the new one (FirstRecoveryForkID, RecoveryForkID,
// ForkPointLSN); later backups start and end on the new fork with no fork
// point, as RESTORE HEADERONLY and msdb.backupset document.
func TestRecoveryForkColumns(t *testing.T) {
	p := newShippingPair(t)
	p.insert(t, 1)
	mustExec(t, p.srcDB, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT", p.path("a.bak"))
	p.insert(t, 1)
	mustExec(t, p.srcDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT", p.path("a1.trn"))
	a := readHeaders(t, p.dstDB, "RESTORE HEADERONLY FROM DISK = @p1", p.path("a.bak"))[0]
	a1 := readHeaders(t, p.dstDB, "RESTORE HEADERONLY FROM DISK = @p1", p.path("a1.trn"))[0]
	if a.forkID == "" || a.firstForkID != a.forkID || a.forkPoint.Valid || a1.forkID != a.forkID || a1.firstForkID != a.forkID || a1.forkPoint.Valid {
		t.Fatalf("fork A: full %+v, log %+v", a, a1)
	}

	// Failover: the secondary restores A's chain and recovers (fork B).
	mustExec(t, p.dstDB, "RESTORE DATABASE shop FROM DISK = @p1 WITH NORECOVERY", p.path("a.bak"))
	mustExec(t, p.dstDB, "RESTORE LOG shop FROM DISK = @p1 WITH RECOVERY", p.path("a1.trn"))
	newApp := openDB(t, p.dst, "shop")
	mustExec(t, newApp, "INSERT INTO dbo.orders (item) VALUES (N'on fork B')")
	mustExec(t, p.dstDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT", p.path("b1.trn"))
	mustExec(t, p.dstDB, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT", p.path("b.bak"))
	mustExec(t, newApp, "INSERT INTO dbo.orders (item) VALUES (N'more')")
	mustExec(t, p.dstDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT", p.path("b2.trn"))

	b1 := readHeaders(t, p.dstDB, "RESTORE HEADERONLY FROM DISK = @p1", p.path("b1.trn"))[0]
	b := readHeaders(t, p.dstDB, "RESTORE HEADERONLY FROM DISK = @p1", p.path("b.bak"))[0]
	b2 := readHeaders(t, p.dstDB, "RESTORE HEADERONLY FROM DISK = @p1", p.path("b2.trn"))[0]
	if b1.forkID == a.forkID || b1.firstForkID != a.forkID || !b1.forkPoint.Valid || b1.forkPoint.String != a1.last {
		t.Fatalf("first log after the recovery: %+v (fork A %s ended at %s)", b1, a.forkID, a1.last)
	}
	for _, h := range []headerRow{b, b2} {
		if h.forkID != b1.forkID || h.firstForkID != b1.forkID || h.forkPoint.Valid {
			t.Fatalf("backup on fork B: %+v", h)
		}
	}
	var first, last, point sql.NullString
	if err := p.dstDB.QueryRow(`SELECT CONVERT(NVARCHAR(36), bs.first_recovery_fork_guid), CONVERT(NVARCHAR(36), bs.last_recovery_fork_guid), bs.fork_point_lsn
		FROM msdb.dbo.backupset bs JOIN msdb.dbo.backupmediafamily bmf ON bmf.media_set_id = bs.media_set_id
		WHERE bmf.physical_device_name = @p1`, p.path("b1.trn")).Scan(&first, &last, &point); err != nil {
		t.Fatal(err)
	}
	if !first.Valid || !last.Valid || first.String == last.String || point.String != a1.last {
		t.Fatalf("backupset of the spanning log: first fork %v, last fork %v, fork point %v", first, last, point)
	}
}
