package mssqlsim

import (
	"bytes"
	"testing"
)

// FuzzDecodeClientMessage feeds arbitrary bytes to the packet reader and to
// every message decoder; none may panic.
func FuzzDecodeClientMessage(f *testing.F) {
	f.Add(splitPackets(pktPrelogin, buildPreloginResponse([4]byte{16, 0, 0, 1}, encryptOff), 512, 0))
	f.Add(splitPackets(pktLogin7, buildLogin7("sa", "pw", "db", "app"), 4096, 0))
	batch := append([]byte{22, 0, 0, 0, 18, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, stringToUCS2("SELECT 1")...)
	f.Add(splitPackets(pktSQLBatch, batch, 512, 0))
	rpc := []byte{4, 0, 0, 0, 0xFF, 0xFF, 10, 0, 0, 0, 0, 0, 0xE7, 0x10, 0x00, 0x09, 0x04, 0xD0, 0x00, 0x34, 0x02, 0x00, 'x', 0}
	f.Add(splitPackets(pktRPC, rpc, 512, 0))
	f.Add([]byte{0x03, 0x01, 0x00, 0x0A, 0, 0, 1, 0, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, wire []byte) {
		msg, err := readMessage(bytes.NewReader(wire))
		if err != nil {
			return
		}
		_, _ = parsePrelogin(msg.Data)
		_, _ = parseLogin7(msg.Data)
		_, _ = parseSQLBatch(msg.Data)
		_, _ = parseTransMgr(msg.Data)
		if req, err := parseRPC(msg.Data); err == nil && req.isExecuteSQL() {
			_, _, _ = req.executeSQLArgs()
		}
		_, _ = decodeMedia(msg.Data)
	})
}

// FuzzParseBatch feeds arbitrary text to the statement recognizer.
func FuzzParseBatch(f *testing.F) {
	for _, s := range []string{
		"SELECT 1",
		"SELECT name, state_desc FROM sys.databases WHERE name = @p1 ORDER BY 1 DESC",
		"BACKUP LOG [db]]x] TO DISK = N'/tmp/a.trn' WITH INIT, COMPRESSION, NORECOVERY",
		"RESTORE DATABASE d FROM DISK = @p1 WITH MOVE 'd' TO '/x/d.mdf', STANDBY = N'/x/u', REPLACE",
		"CREATE TABLE t (id INT IDENTITY(1,1) PRIMARY KEY, v NVARCHAR(MAX) DEFAULT N'x')",
		"INSERT INTO t (v) VALUES (N'a'), (CAST(1 AS NVARCHAR(10)))",
		"UPDATE t SET v = CASE WHEN v LIKE '[a-c]%' THEN 'x' ELSE v END WHERE id BETWEEN 1 AND 2",
		"IF NOT EXISTS (SELECT 1 FROM sys.sql_logins WHERE name = N'u') BEGIN CREATE LOGIN [u] WITH PASSWORD = 0x0200 HASHED END ELSE SELECT (SELECT 1)",
		"/* unterminated", "[", "N'", "0x", "@", "SELECT ((((((1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		stmts, err := parseBatch(src)
		if err != nil {
			if _, ok := err.(*SQLError); !ok {
				t.Fatalf("parseBatch(%q) returned a non-SQL error %T: %v", src, err, err)
			}
			return
		}
		for _, s := range stmts {
			_ = s.source()
		}
	})
}

// FuzzReadTypedValue feeds arbitrary TYPE_INFO + value bytes (as found in
// RPC parameters) to the decoder; it must never panic.
func FuzzReadTypedValue(f *testing.F) {
	seeds := [][]byte{
		{tdsNull},
		{tdsIntN, 8, 8, 1, 0, 0, 0, 0, 0, 0, 0},
		{tdsIntN, 4, 0},
		{tdsBitN, 1, 1, 1},
		{tdsFltN, 8, 8, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F},
		{tdsNumericN, 13, 25, 0, 13, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		{tdsDateTimN, 8, 8, 0, 0, 0, 0, 0, 0, 0, 0},
		{tdsDateN, 3, 1, 2, 3},
		{tdsDateTime2N, 7, 8, 0, 0, 0, 0, 0, 1, 2, 3},
		{tdsDateTimeOffsetN, 7, 10, 0, 0, 0, 0, 0, 1, 2, 3, 0x78, 0},
		{tdsBigVarBinary, 4, 0, 2, 0, 0xAB, 0xCD},
		{tdsNVarChar, 0xFF, 0xFF, 9, 4, 0xD0, 0, 0x34, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 2, 0, 0, 0, 'a', 0, 0, 0, 0, 0},
		{tdsBigVarChar, 10, 0, 9, 4, 0xD0, 0, 0x34, 0xFF, 0xFF},
		{tdsGUID, 16, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, typ, err := readTypedValue(newWireReader(data))
		if err != nil {
			return
		}
		// Whatever decodes must be encodable in a result set.
		var ts tokenStream
		if typ.Base != 0 {
			ts.colMetadata([]resultColumn{{Name: "v", Type: typ, Nullable: true}})
			_ = ts.row([]resultColumn{{Name: "v", Type: typ}}, []Value{v})
		}
	})
}
