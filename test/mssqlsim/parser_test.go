package mssqlsim

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseBatchRecognizesStatements(t *testing.T) {
	tests := []struct {
		sql   string
		kinds []string
	}{
		{"SELECT 1", []string{"*mssqlsim.selectStmt"}},
		{"select 1; SELECT 2", []string{"*mssqlsim.selectStmt", "*mssqlsim.selectStmt"}},
		{"CREATE DATABASE [a]]b]\nUSE [a]]b] SELECT 1", []string{"*mssqlsim.createDatabaseStmt", "*mssqlsim.useStmt", "*mssqlsim.selectStmt"}},
		{"backup log [db] to disk = N'/x.trn' with init, compression, checksum, stats = 5", []string{"*mssqlsim.backupStmt"}},
		{"RESTORE LOG db FROM DISK = @p1 WITH STANDBY = @p2", []string{"*mssqlsim.restoreStmt"}},
		{"RESTORE DATABASE db WITH RECOVERY", []string{"*mssqlsim.restoreStmt"}},
		{"RESTORE HEADERONLY FROM DISK = 'x'", []string{"*mssqlsim.restoreStmt"}},
		{"ALTER DATABASE db SET SINGLE_USER WITH ROLLBACK IMMEDIATE", []string{"*mssqlsim.alterDatabaseStmt"}},
		{"CREATE LOGIN [u] WITH PASSWORD = 0x0200AB HASHED, SID = 0x01, CHECK_POLICY = OFF", []string{"*mssqlsim.createLoginStmt"}},
		{"KILL 53", []string{"*mssqlsim.killStmt"}},
		{"BEGIN TRAN; UPDATE t SET a = a + 1 WHERE id = 1; COMMIT TRANSACTION", []string{"*mssqlsim.beginTranStmt", "*mssqlsim.updateStmt", "*mssqlsim.commitStmt"}},
		{"-- comment\n/* block /* nested */ */ SET NOCOUNT ON", []string{"*mssqlsim.setOptionStmt"}},
		{"IF NOT EXISTS (SELECT 1 FROM sys.databases WHERE name = @p1) CREATE DATABASE x", []string{"*mssqlsim.ifStmt"}},
		{"IF DB_ID('x') IS NULL BEGIN CREATE DATABASE x; USE x END ELSE SELECT 1; SELECT 2", []string{"*mssqlsim.ifStmt", "*mssqlsim.selectStmt"}},
		{"BEGIN SELECT 1 END", []string{"*mssqlsim.blockStmt"}},
		{"DROP TABLE IF EXISTS t", []string{"*mssqlsim.dropTableStmt"}},
		{"   ", nil},
	}
	for _, tc := range tests {
		stmts, err := parseBatch(tc.sql)
		if err != nil {
			t.Errorf("parseBatch(%q): %v", tc.sql, err)
			continue
		}
		var kinds []string
		for _, s := range stmts {
			kinds = append(kinds, fmt.Sprintf("%T", s))
		}
		if strings.Join(kinds, ",") != strings.Join(tc.kinds, ",") {
			t.Errorf("parseBatch(%q) = %v, want %v", tc.sql, kinds, tc.kinds)
		}
	}
}

func TestParseBatchRejectsUnsupported(t *testing.T) {
	for _, q := range []string{
		"SELECT a FROM t GROUP BY a",
		"TRUNCATE TABLE t",
		"SELECT 1 UNION SELECT 2",
		"CREATE VIEW v AS SELECT 1",
		"SELECT 'unterminated",
		"BACKUP CERTIFICATE c TO FILE = 'x'",
		"SELECT [a",
		"BEGIN SELECT 1",
		"IF 1 = 1",
		"ELSE SELECT 1",
	} {
		_, err := parseBatch(q)
		if err == nil {
			t.Errorf("parseBatch(%q) succeeded", q)
			continue
		}
		se, ok := err.(*SQLError)
		if !ok || se.Number != 102 {
			t.Errorf("parseBatch(%q) = %v, want error 102", q, err)
		}
	}
}

func TestLexerIdentifiersAndLiterals(t *testing.T) {
	toks, err := lex(`[a]]b] "q""x" N'it''s' 0x0A0b @p1 @@SPID 1.50 <> !=`)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind tokenKind
		text string
	}{
		{tkQuoted, "a]b"}, {tkQuoted, `q"x`}, {tkString, "it's"}, {tkHex, "0x0A0b"},
		{tkParam, "p1"}, {tkSysVar, "SPID"}, {tkNumber, "1.50"}, {tkOp, "<>"}, {tkOp, "!="}, {tkEOF, ""},
	}
	if len(toks) != len(want) {
		t.Fatalf("got %d tokens, want %d: %+v", len(toks), len(want), toks)
	}
	for i, w := range want {
		if toks[i].Kind != w.kind || toks[i].Text != w.text {
			t.Errorf("token %d = %v %q, want %v %q", i, toks[i].Kind, toks[i].Text, w.kind, w.text)
		}
	}
	if string(toks[3].Hex) != "\x0a\x0b" {
		t.Errorf("hex = %x", toks[3].Hex)
	}
}
