package mssqlsim

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestBackupMediaAppendHeaderAndFileList(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	dir := t.TempDir()
	media := filepath.Join(dir, "media.bak")
	mustExec(t, db, "CREATE DATABASE m")
	mustExec(t, db, "BACKUP DATABASE m TO DISK = @p1 WITH FORMAT, NAME = N'first'", media)
	mustExec(t, db, "CREATE TABLE m.dbo.t (v INT); INSERT INTO m.dbo.t VALUES (1)")
	mustExec(t, db, "BACKUP LOG m TO DISK = @p1", media) // NOINIT: appended as set 2
	mustExec(t, db, "BACKUP DATABASE m TO DISK = @p1 WITH COPY_ONLY, CHECKSUM, COMPRESSION", media)

	rows, err := db.Query("RESTORE HEADERONLY FROM DISK = @p1", media)
	if err != nil {
		t.Fatal(err)
	}
	type hdr struct {
		typ, pos              int64
		first, last, dbBackup string
		copyOnly, compressed  bool
	}
	var got []hdr
	for rows.Next() {
		var h hdr
		var name, desc, expiration, user, server, dbname, machine, fork, family, model, typeDesc, setGUID any
		var devType, version, softMajor any
		var created, start, finish any
		var size, checkpoint any
		var checksums, forceOffline bool
		var firstFork, forkPoint any
		if err := rows.Scan(&name, &desc, &h.typ, &expiration, &h.compressed, &h.pos, &devType, &user, &server, &dbname,
			&version, &created, &size, &h.first, &h.last, &checkpoint, &h.dbBackup, &start, &finish, &softMajor,
			&machine, &fork, &family, &checksums, &h.copyOnly, &forceOffline, &firstFork, &forkPoint, &model, &typeDesc, &setGUID); err != nil {
			t.Fatal(err)
		}
		got = append(got, h)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(got) != 3 {
		t.Fatalf("HEADERONLY returned %d sets, want 3", len(got))
	}
	if got[0].typ != 1 || got[1].typ != 2 || got[2].typ != 1 || got[1].pos != 2 || !got[2].copyOnly || !got[2].compressed {
		t.Fatalf("headers = %+v", got)
	}
	if got[0].dbBackup != "0" || got[1].first != got[0].first {
		t.Fatalf("LSN chain: first full %+v, log %+v", got[0], got[1])
	}
	if l0, _ := ParseLSN(got[0].last); func() bool { l1, _ := ParseLSN(got[1].last); return l1.Cmp(l0) <= 0 }() {
		t.Fatalf("log LastLSN %s not after full LastLSN %s", got[1].last, got[0].last)
	}

	// msdb history through the wire: BIGCHAR type, DATETIMN dates, NUMERIC LSNs.
	var bsType, firstLSN string
	var finished time.Time
	var copyOnly bool
	if err := db.QueryRow(`SELECT TOP 1 bs.type, bs.first_lsn, bs.backup_finish_date, bs.is_copy_only
		FROM msdb.dbo.backupset bs INNER JOIN msdb.dbo.backupmediafamily bmf ON bmf.media_set_id = bs.media_set_id
		WHERE bmf.physical_device_name = @p1 ORDER BY bs.backup_set_id DESC`, media).Scan(&bsType, &firstLSN, &finished, &copyOnly); err != nil {
		t.Fatal(err)
	}
	if bsType != "D" || !copyOnly || time.Since(finished) > time.Hour || firstLSN == "" {
		t.Fatalf("backupset row: type=%q copy_only=%v finish=%v first_lsn=%q", bsType, copyOnly, finished, firstLSN)
	}
	var logical, physical, typ string
	if err := db.QueryRow("RESTORE FILELISTONLY FROM DISK = @p1 WITH FILE = 3", media).Scan(&logical, &physical, &typ, new(any), new(any), new(any), new(any), new(any), new(any), new(any)); err != nil {
		t.Fatal(err)
	}
	if logical != "m" || typ != "D" {
		t.Fatalf("FILELISTONLY first file = %s %s %s", logical, physical, typ)
	}
	mustExec(t, db, "RESTORE VERIFYONLY FROM DISK = @p1 WITH FILE = 3", media)
	_, err = db.Exec("RESTORE VERIFYONLY FROM DISK = @p1 WITH FILE = 4", media)
	if me := sqlError(t, err); !containsNumber(me, 3206) {
		t.Fatalf("FILE = 4: %v", errorNumbers(me))
	}
	// Restore the log set (FILE = 2) on top of the first full set.
	mustExec(t, db, "RESTORE DATABASE m2 FROM DISK = @p1 WITH FILE = 1, NORECOVERY, MOVE 'm' TO @p2, MOVE 'm_log' TO @p3", media, filepath.Join(dir, "m2.mdf"), filepath.Join(dir, "m2.ldf"))
	mustExec(t, db, "RESTORE LOG m2 FROM DISK = @p1 WITH FILE = 2", media)
	if n := queryInt(t, db, "SELECT COUNT(*) FROM m2.dbo.t"); n != 1 {
		t.Fatalf("m2 rows = %d", n)
	}
	// A file that is not a backup media.
	junk := filepath.Join(dir, "junk.bak")
	if err := os.WriteFile(junk, []byte("not a backup"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec("RESTORE HEADERONLY FROM DISK = @p1", junk)
	if me := sqlError(t, err); me.Number != 3013 || !containsNumber(me, 3241) {
		t.Fatalf("junk media: %v", errorNumbers(me))
	}
}
