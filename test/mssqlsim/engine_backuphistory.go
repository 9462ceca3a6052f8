package mssqlsim

import (
	"fmt"
	"strings"
	"time"
)

// msdb.dbo.sp_delete_backuphistory @oldest_date: SQL Server's procedure that "reduces the size of
// the backup and restore history tables by deleting the entries for backup sets older than the
// specified date". As in msdb's code, the backup sets are those whose backup_finish_date is before
// @oldest_date (datetime values compared as they are: local times, the set's own writer's for a
// restored set); the restorehistory rows deleted are those of these sets (whatever their
// restore_date), and a backupmediafamily row goes once no backup set of its media set is left.
// backupfile, backupfilegroup, backupmediaset, restorefile and restorefilegroup, which the
// procedure also cleans, are not modelled by the simulator. Backup files are never touched.

// isDeleteBackupHistoryName reports whether name ends in sp_delete_backuphistory (the statement
// resolves it at run time, against the current database).
func isDeleteBackupHistoryName(name objectName) bool {
	return strings.EqualFold(name.name(), "sp_delete_backuphistory")
}

// resolvesToDeleteBackupHistory reports whether the EXEC names msdb's procedure: msdb.dbo.<proc>
// or msdb..<proc> from anywhere, [dbo.]<proc> in msdb. SQL Server looks an unqualified sp_ name up
// in master and then in the current database; the procedure exists only in msdb.
func (ec *execCtx) resolvesToDeleteBackupHistory(s *execStmt) bool {
	parts := strings.Split(s.Proc, ".")
	schema, db := "", ""
	switch len(parts) {
	case 1:
	case 2:
		schema = parts[0]
	case 3:
		db, schema = parts[0], parts[1]
	default:
		return false
	}
	if schema != "" && !strings.EqualFold(schema, "dbo") {
		return false
	}
	if db == "" {
		db = ec.sess.database
	}
	return strings.EqualFold(db, "msdb")
}

// procArgs parses a procedure's arguments: [@name =] value, separated by commas.
func (p *parser) procArgs() (names []string, args []expr, err error) {
	for !(p.peek().Kind == tkEOF || p.peek().isOp(";") || isStatementStart(p.peek())) {
		name := ""
		if p.peek().Kind == tkParam && p.peekAt(1).isOp("=") {
			name = strings.ToLower(p.next().Text)
			p.next()
		}
		x, err := p.expr()
		if err != nil {
			return nil, nil, err
		}
		names, args = append(names, name), append(args, x)
		if !p.peek().isOp(",") {
			break
		}
		p.next()
	}
	return names, args, nil
}

// execDeleteBackupHistory runs EXEC msdb.dbo.sp_delete_backuphistory [@oldest_date =] <datetime>.
func (ec *execCtx) execDeleteBackupHistory(s *execStmt) (stmtResult, error) {
	if !ec.resolvesToDeleteBackupHistory(s) {
		return stmtResult{}, errProcNotFound(s.Proc)
	}
	const proc = "sp_delete_backuphistory"
	if len(s.Args) > 1 {
		return stmtResult{}, sqlErr(8144, 16, "Procedure or function %s has too many arguments specified.", proc)
	}
	if len(s.Args) == 0 {
		return stmtResult{}, sqlErr(201, 16, "Procedure or function '%s' expects parameter '@oldest_date', which was not supplied.", proc)
	}
	if n := s.Named[0]; n != "" && n != "oldest_date" {
		return stmtResult{}, sqlErr(8145, 16, "@%s is not a parameter for procedure %s.", n, proc)
	}
	v, err := (&env{ec: ec}).eval(s.Args[0])
	if err != nil {
		return stmtResult{}, err
	}
	if v.IsNull() {
		return stmtResult{}, nil // backup_finish_date < NULL holds for no row
	}
	oldest, ok := v.timeOf()
	if !ok {
		return stmtResult{}, sqlErr(241, 16, "Conversion failed when converting date and/or time from character string.")
	}
	ec.in.deleteBackupHistoryLocked(oldest)
	if err := ec.in.saveLocked(); err != nil {
		return stmtResult{}, fmt.Errorf("saving msdb history: %w", err)
	}
	return stmtResult{}, nil
}

// deleteBackupHistoryLocked deletes the backup sets that finished before oldest (a datetime
// without zone, compared with each set's local finish time), their restore history, and the media
// families no set refers to any more.
func (in *instance) deleteBackupHistoryLocked(oldest time.Time) {
	gone := map[int]bool{}
	media := map[int]bool{}
	sets := in.backupSets[:0]
	for _, b := range in.backupSets {
		if wallClock(b.FinishDate, b.TimeZoneOffset).Before(oldest) {
			gone[b.BackupSetID], media[b.MediaSetID] = true, true
			continue
		}
		sets = append(sets, b)
	}
	in.backupSets = sets
	stillUsed := map[int]bool{}
	for _, b := range in.backupSets {
		stillUsed[b.MediaSetID] = true
	}
	families := in.mediaFamilies[:0]
	for _, m := range in.mediaFamilies {
		if !media[m.MediaSetID] || stillUsed[m.MediaSetID] {
			families = append(families, m)
		}
	}
	in.mediaFamilies = families
	restores := in.restoreHistory[:0]
	for _, r := range in.restoreHistory {
		if !gone[r.BackupSetID] {
			restores = append(restores, r)
		}
	}
	in.restoreHistory = restores
}
