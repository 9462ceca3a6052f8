package mssqlsim

import (
	"database/sql"
	"testing"
)

// wantRestoreError runs a RESTORE and wants cause first, then 3013.
func wantRestoreError(t *testing.T, db *sql.DB, cause int32, query string, args ...any) {
	t.Helper()
	_, err := db.Exec(query, args...)
	me := sqlError(t, err)
	if nums := errorNumbers(me); len(nums) != 2 || nums[0] != cause || nums[1] != 3013 {
		t.Fatalf("%s: errors %v, want [%d 3013]", query, nums, cause)
	}
}

// A RESTORE DATABASE without REPLACE over a database of another family is
// refused with 3154 even when the names are equal (the REPLACE safety
// check compares family GUIDs); another fork of the same family is not
// another database.
func TestRestoreOverAnotherFamilyIs3154(t *testing.T) {
	p := newShippingPair(t)
	p.insert(t, 2)
	mustExec(t, p.srcDB, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT", p.path("full.bak"))
	// The standby has its own database of the same name: another family.
	mustExec(t, p.dstDB, "CREATE DATABASE shop")
	wantRestoreError(t, p.dstDB, 3154, "RESTORE DATABASE shop FROM DISK = @p1 WITH NORECOVERY", p.path("full.bak"))
	mustExec(t, p.dstDB, "RESTORE DATABASE shop FROM DISK = @p1 WITH NORECOVERY, REPLACE", p.path("full.bak"))

	// The family survives recovery (a new fork) and a backup of the new
	// fork restores over the old fork without REPLACE.
	mustExec(t, p.dstDB, "RESTORE DATABASE shop WITH RECOVERY")
	mustExec(t, p.dstDB, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT", p.path("fork2.bak"))
	family := func(db *sql.DB) (family, fork string) {
		t.Helper()
		if err := db.QueryRow("SELECT family_guid, recovery_fork_guid FROM sys.database_recovery_status WHERE database_id = DB_ID('shop')").Scan(&family, &fork); err != nil {
			t.Fatal(err)
		}
		return family, fork
	}
	srcFamily, srcFork := family(p.srcDB)
	dstFamily, dstFork := family(p.dstDB)
	if srcFamily != dstFamily || srcFork == dstFork {
		t.Fatalf("family %s / %s, fork %s / %s: want one family, two forks", srcFamily, dstFamily, srcFork, dstFork)
	}
	rows, err := p.dstDB.Query("RESTORE HEADERONLY FROM DISK = @p1", p.path("fork2.bak"))
	if err != nil {
		t.Fatal(err)
	}
	header := scanRow(t, rows)
	headerFamily, headerFork := header["FamilyGUID"], header["RecoveryForkID"]
	if headerFamily != dstFamily || headerFork != dstFork {
		t.Fatalf("HEADERONLY FamilyGUID %s RecoveryForkID %s, want %s and %s", headerFamily, headerFork, dstFamily, dstFork)
	}
	p.app.Close()
	waitNoUsers(t, p.srcDB, "shop")
	mustExec(t, p.srcDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT, NORECOVERY", p.path("srctail.trn"))
	mustExec(t, p.srcDB, "RESTORE DATABASE shop FROM DISK = @p1 WITH NORECOVERY", p.path("fork2.bak"))
}

// scanRow reads the single row of rows into a column name -> value map.
func scanRow(t *testing.T, rows *sql.Rows) map[string]any {
	t.Helper()
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	for i, c := range cols {
		if b, ok := vals[i].([]byte); ok {
			m[c] = string(b)
		} else {
			m[c] = vals[i]
		}
	}
	return m
}

// RESTORE LOG of the same database on another recovery path is 4330; of
// another database 3154; of the parent fork before the fork point 4326
// (already on the database's path).
func TestLogOfAnotherRecoveryPathIs4330(t *testing.T) {
	p := newShippingPair(t)
	p.insert(t, 2)
	mustExec(t, p.srcDB, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT", p.path("full.bak"))
	p.insert(t, 1)
	mustExec(t, p.srcDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT", p.path("log1.trn"))
	mustExec(t, p.dstDB, "RESTORE DATABASE shop FROM DISK = @p1 WITH NORECOVERY", p.path("full.bak"))
	mustExec(t, p.dstDB, "RESTORE LOG shop FROM DISK = @p1 WITH NORECOVERY", p.path("log1.trn"))
	// Unplanned failover: the standby is recovered after log1 (a new fork);
	// the old primary carried on and backed up log2 on the old fork, past
	// the fork point.
	mustExec(t, p.dstDB, "RESTORE DATABASE shop WITH RECOVERY")
	p.insert(t, 1)
	mustExec(t, p.srcDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT", p.path("log2.trn"))
	newApp := openDB(t, p.dst, "shop")
	mustExec(t, newApp, "INSERT INTO dbo.orders (item) VALUES (N'on the new primary')")
	mustExec(t, p.dstDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT", p.path("new1.trn"))
	mustExec(t, p.dstDB, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT", p.path("newfull.bak"))

	// The old primary, now restoring on the old fork past the fork point,
	// cannot take the new primary's log.
	p.app.Close()
	waitNoUsers(t, p.srcDB, "shop")
	mustExec(t, p.srcDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT, NORECOVERY", p.path("tail.trn"))
	wantRestoreError(t, p.srcDB, 4330, "RESTORE LOG shop FROM DISK = @p1 WITH NORECOVERY", p.path("new1.trn"))

	// A copy of the new fork cannot take the old fork's log2 either.
	mustExec(t, p.srcDB, "RESTORE DATABASE copy FROM DISK = @p1 WITH NORECOVERY", p.path("newfull.bak"))
	wantRestoreError(t, p.srcDB, 4330, "RESTORE LOG copy FROM DISK = @p1 WITH NORECOVERY", p.path("log2.trn"))
	// log1 is on its path (the parent fork, before the fork point): too early.
	wantRestoreError(t, p.srcDB, 4326, "RESTORE LOG copy FROM DISK = @p1 WITH NORECOVERY", p.path("log1.trn"))

	// A log backup of another database: 3154.
	mustExec(t, p.srcDB, "CREATE DATABASE other; ALTER DATABASE other SET RECOVERY FULL")
	mustExec(t, p.srcDB, "BACKUP DATABASE other TO DISK = @p1 WITH INIT", p.path("other.bak"))
	mustExec(t, p.srcDB, "BACKUP LOG other TO DISK = @p1 WITH INIT", p.path("other.trn"))
	wantRestoreError(t, p.srcDB, 3154, "RESTORE LOG copy FROM DISK = @p1 WITH NORECOVERY", p.path("other.trn"))

	// The refusals changed nothing: the copy still takes the new fork's
	// next log.
	mustExec(t, newApp, "INSERT INTO dbo.orders (item) VALUES (N'later')")
	mustExec(t, p.dstDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT", p.path("new2.trn"))
	mustExec(t, p.srcDB, "RESTORE LOG copy FROM DISK = @p1 WITH RECOVERY", p.path("new2.trn"))
	if got, want := queryInt(t, p.srcDB, "SELECT COUNT(*) FROM copy.dbo.orders"), queryInt(t, p.dstDB, "SELECT COUNT(*) FROM shop.dbo.orders"); got != want {
		t.Fatalf("copy has %d rows, new primary %d", got, want)
	}
}

// RESTORE ... WITH CHECKSUM of a backup taken without checksums is 3187
// (severity 16); with checksums it restores.
func TestRestoreWithChecksumOfBackupWithoutChecksumsIs3187(t *testing.T) {
	p := newShippingPair(t)
	p.insert(t, 2)
	mustExec(t, p.srcDB, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT", p.path("plain.bak"))
	mustExec(t, p.srcDB, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT, CHECKSUM", p.path("sums.bak"))
	p.insert(t, 1)
	mustExec(t, p.srcDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT", p.path("plain.trn"))

	_, err := p.dstDB.Exec("RESTORE DATABASE shop FROM DISK = @p1 WITH NORECOVERY, CHECKSUM", p.path("plain.bak"))
	me := sqlError(t, err)
	if nums := errorNumbers(me); len(nums) != 2 || nums[0] != 3187 || me.All[0].Class != 16 {
		t.Fatalf("restore WITH CHECKSUM of a backup without: %v (class %d)", nums, me.All[0].Class)
	}
	wantRestoreError(t, p.dstDB, 3187, "RESTORE VERIFYONLY FROM DISK = @p1 WITH CHECKSUM", p.path("plain.bak"))
	if n := queryInt(t, p.dstDB, "SELECT COUNT(*) FROM sys.databases WHERE name = 'shop'"); n != 0 {
		t.Fatal("the refused restore created the database")
	}
	mustExec(t, p.dstDB, "RESTORE DATABASE shop FROM DISK = @p1 WITH NORECOVERY, CHECKSUM", p.path("sums.bak"))
	wantRestoreError(t, p.dstDB, 3187, "RESTORE LOG shop FROM DISK = @p1 WITH NORECOVERY, CHECKSUM", p.path("plain.trn"))
	// Without the option the same log applies.
	mustExec(t, p.dstDB, "RESTORE LOG shop FROM DISK = @p1 WITH RECOVERY", p.path("plain.trn"))
	if got, want := p.count(t, p.dstDB), p.count(t, p.srcDB); got != want {
		t.Fatalf("%d rows, want %d", got, want)
	}
}
