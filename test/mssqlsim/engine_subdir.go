package mssqlsim

import (
	"os"
	"path/filepath"
	"strings"
)

// isCreateSubdirProc reports whether name is the extended stored procedure
// xp_create_subdir, however it is qualified (xp_create_subdir,
// master..xp_create_subdir, master.sys.xp_create_subdir, ...).
func isCreateSubdirProc(name objectName) bool {
	if !strings.EqualFold(name.Parts[len(name.Parts)-1], "xp_create_subdir") {
		return false
	}
	switch len(name.Parts) {
	case 1:
		return true
	case 2:
		return strings.EqualFold(name.Parts[0], "sys") || strings.EqualFold(name.Parts[0], "dbo")
	default:
		db, schema := name.Parts[len(name.Parts)-3], name.Parts[len(name.Parts)-2]
		return strings.EqualFold(db, "master") && (schema == "" || strings.EqualFold(schema, "sys") || strings.EqualFold(schema, "dbo"))
	}
}

// execCreateSubdir implements EXEC xp_create_subdir 'dir': create the
// directory and its missing parents on the server's file system (like
// SQL Server, which the operator uses to prepare backup directories, since
// BACKUP does not create them). Existing directories are fine. Failures
// are 22048 with the operating system error, as in SQL Server.
func (ec *execCtx) execCreateSubdir(s *execStmt) (stmtResult, error) {
	dir, err := ec.evalString(s.Args[0], "The directory name")
	if err != nil {
		return stmtResult{}, err
	}
	if dir == "" || !filepath.IsAbs(dir) {
		return stmtResult{}, sqlErr(22048, 16, "xp_create_subdir() returned error 161, 'The specified path is invalid.'")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return stmtResult{}, sqlErr(22048, 16, "xp_create_subdir() returned error 5, '%v'", err)
	}
	return stmtResult{}, nil
}
