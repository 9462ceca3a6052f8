package mssqlsim

import (
	"database/sql"
	"testing"
)

func benchServer(b *testing.B, database string) *sql.DB {
	b.Helper()
	srv, err := Start(Options{DataDir: b.TempDir(), SAPassword: testPassword})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	db, err := sql.Open("sqlserver", srv.SADSN(""))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if database != "" {
		if _, err := db.Exec("CREATE DATABASE [" + database + "]"); err != nil {
			b.Fatal(err)
		}
		db.Close()
		if db, err = sql.Open("sqlserver", srv.SADSN(database)); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
	}
	return db
}

// BenchmarkSelectOne measures a round trip through go-mssqldb and TDS.
func BenchmarkSelectOne(b *testing.B) {
	db := benchServer(b, "")
	var n int
	for b.Loop() {
		if err := db.QueryRow("SELECT 1").Scan(&n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDurableInsert measures an acknowledged (fsynced) INSERT.
func BenchmarkDurableInsert(b *testing.B) {
	db := benchServer(b, "bench")
	if _, err := db.Exec("CREATE TABLE t (id INT IDENTITY PRIMARY KEY, v NVARCHAR(50))"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := db.Exec("INSERT INTO t (v) VALUES (@p1)", "payload"); err != nil {
			b.Fatal(err)
		}
	}
}
