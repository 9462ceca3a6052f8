package mssqlsim

import (
	"reflect"
	"testing"
)

func TestParseSecurityStatements(t *testing.T) {
	on := func(parts ...string) *objectName { return &objectName{Parts: parts} }
	tests := []struct {
		sql  string
		want stmt
	}{
		{"GRANT VIEW SERVER STATE TO [op]", &grantStmt{Perms: []string{"VIEW SERVER STATE"}, Principal: "op"}},
		{"grant alter any connection, Alter Any Login, VIEW ANY CRYPTOGRAPHICALLY SECURED DEFINITION to op",
			&grantStmt{Perms: []string{"ALTER ANY CONNECTION", "ALTER ANY LOGIN", "VIEW ANY CRYPTOGRAPHICALLY SECURED DEFINITION"}, Principal: "op"}},
		{"GRANT EXECUTE ON sys.xp_create_subdir TO [op]", &grantStmt{Perms: []string{"EXECUTE"}, On: on("sys", "xp_create_subdir"), Principal: "op"}},
		{"GRANT SELECT ON msdb.dbo.backupset TO [o]]p]", &grantStmt{Perms: []string{"SELECT"}, On: on("msdb", "dbo", "backupset"), Principal: "o]p"}},
		{"REVOKE CONTROL SERVER FROM op", &grantStmt{Revoke: true, Perms: []string{"CONTROL SERVER"}, Principal: "op"}},
		{"REVOKE SELECT ON dbo.backupset TO op", &grantStmt{Revoke: true, Perms: []string{"SELECT"}, On: on("dbo", "backupset"), Principal: "op"}},
		{"CREATE USER [op] FOR LOGIN [op]", &createUserStmt{Name: "op", Login: "op"}},
		{"CREATE USER u FROM LOGIN l", &createUserStmt{Name: "u", Login: "l"}},
		{"CREATE USER op", &createUserStmt{Name: "op", Login: "op"}},
		{"DROP USER IF EXISTS op", &dropUserStmt{Name: "op", IfExists: true}},
		{"ALTER ROLE db_backupoperator ADD MEMBER [op]", &alterRoleStmt{Role: "db_backupoperator", Principal: "op"}},
		{"ALTER ROLE [db_owner] DROP MEMBER op", &alterRoleStmt{Role: "db_owner", Drop: true, Principal: "op"}},
		{"ALTER SERVER ROLE [dbcreator] ADD MEMBER [op]", &alterRoleStmt{Server: true, Role: "dbcreator", Principal: "op"}},
	}
	for _, tc := range tests {
		stmts, err := parseBatch(tc.sql)
		if err != nil {
			t.Errorf("parseBatch(%q): %v", tc.sql, err)
			continue
		}
		if len(stmts) != 1 {
			t.Errorf("parseBatch(%q): %d statements, want 1", tc.sql, len(stmts))
			continue
		}
		got := stmts[0]
		// The source text is the statement as written.
		text := stmtText{Text: tc.sql}
		switch w := tc.want.(type) {
		case *grantStmt:
			w.stmtText = text
		case *createUserStmt:
			w.stmtText = text
		case *dropUserStmt:
			w.stmtText = text
		case *alterRoleStmt:
			w.stmtText = text
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseBatch(%q) = %#v, want %#v", tc.sql, got, tc.want)
		}
	}
}

func TestParseSecurityStatementsRejectsMalformed(t *testing.T) {
	for _, sql := range []string{
		"GRANT TO op",
		"GRANT VIEW SERVER STATE",
		"GRANT , VIEW SERVER STATE TO op",
		"GRANT VIEW SERVER STATE TO op WITH GRANT OPTION",
		"GRANT EXECUTE ON TO op",
		"REVOKE VIEW SERVER STATE op",
		"CREATE USER",
		"CREATE USER op FOR op",
		"CREATE USER op WITH DEFAULT_SCHEMA = dbo",
		"ALTER ROLE db_owner MEMBER op",
		"ALTER ROLE db_owner ADD op",
		"ALTER SERVER ROLE sysadmin ADD MEMBER",
	} {
		if stmts, err := parseBatch(sql); err == nil {
			t.Errorf("parseBatch(%q) = %#v, want a syntax error", sql, stmts)
		}
	}
}
