package mssqlsim

import (
	"strconv"
	"strings"
)

// catalogView resolves system views answered from the model. ok is false
// when name is not a catalog view.
func (ec *execCtx) catalogView(name objectName) (relation, bool, error) {
	n := strings.ToLower(name.name())
	schema := strings.ToLower(name.schema())
	dbName := strings.ToLower(name.database())
	inMsdb := dbName == "msdb" || (dbName == "" && strings.EqualFold(ec.sess.database, "msdb"))
	switch {
	case schema == "sys":
		switch n {
		case "databases":
			return ec.sysDatabases(), true, nil
		case "database_recovery_status":
			return ec.sysDatabaseRecoveryStatus(), true, nil
		case "master_files":
			return ec.sysMasterFiles(), true, nil
		case "database_files":
			d, err := ec.dbForScopedView(dbName)
			if err != nil {
				return relation{}, true, err
			}
			return ec.sysDatabaseFiles(d), true, nil
		case "sql_logins":
			return ec.sysLogins(true), true, nil
		case "server_principals":
			return ec.sysLogins(false), true, nil
		case "dm_exec_sessions":
			return ec.sysDmExecSessions(), true, nil
		case "dm_tran_locks":
			return ec.sysDmTranLocks(), true, nil
		case "tables":
			d, err := ec.dbForScopedView(dbName)
			if err != nil {
				return relation{}, true, err
			}
			return ec.sysTables(d), true, nil
		}
		return relation{}, false, errInvalidObject(strings.Join(name.Parts, "."))
	case schema == "information_schema" && n == "tables":
		d, err := ec.dbForScopedView(dbName)
		if err != nil {
			return relation{}, true, err
		}
		return ec.informationSchemaTables(d), true, nil
	case inMsdb && (schema == "dbo" || schema == ""):
		switch n {
		case "backupset":
			return ec.msdbBackupSet(), true, nil
		case "backupmediafamily":
			return ec.msdbBackupMediaFamily(), true, nil
		case "restorehistory":
			return ec.msdbRestoreHistory(), true, nil
		}
	}
	return relation{}, false, nil
}

func (ec *execCtx) dbForScopedView(dbName string) (*database, error) {
	if dbName == "" {
		dbName = ec.sess.database
	}
	d := ec.in.db(dbName)
	if d == nil {
		return nil, errDBNotExist(dbName)
	}
	if d.State == stateRestoring {
		return nil, errDBRestoring(d.Name)
	}
	return d, nil
}

func cols(defs ...any) []column {
	out := make([]column, 0, len(defs)/2)
	for i := 0; i+1 < len(defs); i += 2 {
		out = append(out, column{Name: defs[i].(string), Type: defs[i+1].(sqlType)})
	}
	return out
}

var (
	typeDesc = nvarchar(60)
	typeGUID = nvarchar(36)
	typeSID  = varbinary(85)
)

func recoveryCode(model string) int64 {
	switch model {
	case recoveryFull:
		return 1
	case recoveryBulkLogged:
		return 2
	}
	return 3
}

func userAccessCode(a string) int64 {
	switch a {
	case accessSingle:
		return 1
	case accessRestricted:
		return 2
	}
	return 0
}

func (ec *execCtx) sysDatabases() relation {
	r := relation{Cols: cols(
		"name", typeSysname, "database_id", typeInt, "source_database_id", typeInt,
		"owner_sid", typeSID, "create_date", typeDateTime, "compatibility_level", typeTinyInt,
		"collation_name", typeSysname, "user_access", typeTinyInt, "user_access_desc", typeDesc,
		"is_read_only", typeBit, "state", typeTinyInt, "state_desc", typeDesc,
		"is_in_standby", typeBit, "recovery_model", typeTinyInt, "recovery_model_desc", typeDesc,
		"log_reuse_wait_desc", typeDesc, "page_verify_option_desc", typeDesc, "is_trustworthy_on", typeBit,
	)}
	for _, d := range ec.in.sortedDatabases() {
		reuse := "NOTHING"
		if d.Recovery != recoverySimple && !d.LogChainStart.IsZero() && d.LastLogBackupLSN.Cmp(d.EndLSN) != 0 {
			reuse = "LOG_BACKUP"
		}
		r.Rows = append(r.Rows, []Value{
			strValue(d.Name), intValue(int64(d.ID)), nullValue(),
			bytesValue(d.ownerSID()), timeValue(ec.in.local(d.CreateDate)), intValue(160),
			strValue("SQL_Latin1_General_CP1_CI_AS"), intValue(userAccessCode(d.UserAccess)), strValue(d.UserAccess),
			bitValue(d.ReadOnly || d.Standby), intValue(d.stateCode()), strValue(d.State),
			bitValue(d.Standby), intValue(recoveryCode(d.Recovery)), strValue(d.Recovery),
			strValue(reuse), strValue("CHECKSUM"), bitValue(d.Trustworthy),
		})
	}
	return r
}

func (ec *execCtx) sysDatabaseRecoveryStatus() relation {
	r := relation{Cols: cols(
		"database_id", typeInt, "database_guid", typeGUID, "family_guid", typeGUID,
		"last_log_backup_lsn", typeLSN, "recovery_fork_guid", typeGUID, "first_recovery_fork_guid", typeGUID,
		"fork_point_lsn", typeLSN,
	)}
	for _, d := range ec.in.sortedDatabases() {
		// Microsoft documents last_log_backup_lsn for databases that can back up their log; for one in
		// a restore sequence (RESTORING, or STANDBY between log restores) it says nothing, so the
		// simulator gives what a client must be ready for: NULL.
		lastLog := lsnValue(d.LastLogBackupLSN)
		if d.isRestoring() || d.Standby {
			lastLog = nullValue()
		}
		r.Rows = append(r.Rows, []Value{
			intValue(int64(d.ID)), strValue(d.FamilyGUID), strValue(d.family()),
			lastLog, strValue(d.FamilyGUID), strValue(d.FamilyGUID), nullValue(),
		})
	}
	return r
}

func fileTypeCode(t string) int64 {
	if t == "LOG" {
		return 1
	}
	return 0
}

func (ec *execCtx) sysMasterFiles() relation {
	r := relation{Cols: cols(
		"database_id", typeInt, "file_id", typeInt, "type", typeTinyInt, "type_desc", typeDesc,
		"name", typeSysname, "physical_name", nvarchar(260), "state", typeTinyInt, "state_desc", typeDesc,
		"size", typeInt, "max_size", typeInt, "growth", typeInt, "is_read_only", typeBit,
		"create_lsn", typeLSN, "differential_base_lsn", typeLSN, "redo_start_lsn", typeLSN, "redo_target_lsn", typeLSN,
	)}
	for _, d := range ec.in.sortedDatabases() {
		// sys.master_files.redo_start_lsn is documented NULL "unless state = RESTORING or state =
		// RECOVERY_PENDING"; a STANDBY database is ONLINE, so it is NULL there (clients find a STANDBY
		// standby's position in msdb.restorehistory).
		redo := nullValue()
		if d.State == stateRestoring { // the simulator has no RECOVERY_PENDING
			redo = lsnValue(d.RedoLSN)
		}
		for _, f := range d.Files {
			r.Rows = append(r.Rows, []Value{
				intValue(int64(d.ID)), intValue(int64(f.FileID)), intValue(fileTypeCode(f.Type)), strValue(f.Type),
				strValue(f.LogicalName), strValue(f.PhysicalName), intValue(d.stateCode()), strValue(d.State),
				intValue(f.SizePages), intValue(-1), intValue(8192), bitValue(d.ReadOnly || d.Standby),
				nullValue(), lsnValue(d.LastFullCheckpointLSN), redo, nullValue(),
			})
		}
	}
	return r
}

func (ec *execCtx) sysDatabaseFiles(d *database) relation {
	r := relation{Cols: cols(
		"file_id", typeInt, "type", typeTinyInt, "type_desc", typeDesc, "name", typeSysname,
		"physical_name", nvarchar(260), "state", typeTinyInt, "state_desc", typeDesc, "size", typeInt, "max_size", typeInt,
	)}
	for _, f := range d.Files {
		r.Rows = append(r.Rows, []Value{
			intValue(int64(f.FileID)), intValue(fileTypeCode(f.Type)), strValue(f.Type), strValue(f.LogicalName),
			strValue(f.PhysicalName), intValue(d.stateCode()), strValue(d.State), intValue(f.SizePages), intValue(-1),
		})
	}
	return r
}

func (ec *execCtx) sysLogins(withHash bool) relation {
	defs := []any{
		"name", typeSysname, "principal_id", typeInt, "sid", typeSID, "type", char(1), "type_desc", typeDesc,
		"is_disabled", typeBit, "create_date", typeDateTime, "modify_date", typeDateTime, "default_database_name", typeSysname,
	}
	if withHash {
		defs = append(defs, "password_hash", varbinary(256), "is_policy_checked", typeBit, "is_expiration_checked", typeBit)
	}
	r := relation{Cols: cols(defs...)}
	for _, l := range ec.in.sortedLogins() {
		row := []Value{
			strValue(l.Name), intValue(int64(l.PrincipalID)), bytesValue(l.SID), strValue("S"), strValue("SQL_LOGIN"),
			bitValue(l.Disabled), timeValue(ec.in.local(l.CreateDate)), timeValue(ec.in.local(l.CreateDate)), strValue(l.DefaultDB),
		}
		if withHash {
			row = append(row, bytesValue(l.PasswordHash), bitValue(l.PolicyChecked), bitValue(l.ExpirationChecked))
		}
		r.Rows = append(r.Rows, row)
	}
	return r
}

func (ec *execCtx) sysDmExecSessions() relation {
	r := relation{Cols: cols(
		"session_id", typeSmallInt, "login_time", typeDateTime, "host_name", typeSysname, "program_name", typeSysname,
		"host_process_id", typeInt, "login_name", typeSysname, "original_login_name", typeSysname, "status", nvarchar(30),
		"database_id", typeSmallInt, "last_request_end_time", typeDateTime, "is_user_process", typeBit,
		"open_transaction_count", typeInt,
	)}
	for _, s := range ec.in.sortedSessions() {
		dbID := int64(0)
		if d := ec.in.db(s.database); d != nil {
			dbID = int64(d.ID)
		}
		r.Rows = append(r.Rows, []Value{
			intValue(int64(s.spid)), timeValue(ec.in.local(s.loginTime)), strValue(s.hostName), strValue(s.appName),
			intValue(int64(s.clientPID)), strValue(s.login), strValue(s.login), strValue(s.status),
			intValue(dbID), timeValue(ec.in.local(s.lastReqEnd)), bitValue(true), intValue(int64(s.tranCount)),
		})
	}
	return r
}

func (ec *execCtx) sysTables(d *database) relation {
	r := relation{Cols: cols(
		"name", typeSysname, "object_id", typeInt, "schema_id", typeInt, "type", char(2), "type_desc", typeDesc, "create_date", typeDateTime,
	)}
	for _, n := range d.tableNames() {
		t := d.tables[strings.ToLower(n)]
		r.Rows = append(r.Rows, []Value{strValue(t.Name), intValue(t.ObjectID), intValue(1), strValue("U"), strValue("USER_TABLE"), timeValue(t.Created)})
	}
	return r
}

func (ec *execCtx) informationSchemaTables(d *database) relation {
	r := relation{Cols: cols("TABLE_CATALOG", typeSysname, "TABLE_SCHEMA", typeSysname, "TABLE_NAME", typeSysname, "TABLE_TYPE", nvarchar(10))}
	for _, n := range d.tableNames() {
		r.Rows = append(r.Rows, []Value{strValue(d.Name), strValue("dbo"), strValue(n), strValue("BASE TABLE")})
	}
	return r
}

func (ec *execCtx) msdbBackupSet() relation {
	r := relation{Cols: cols(
		"backup_set_id", typeInt, "media_set_id", typeInt, "name", nvarchar(128), "user_name", nvarchar(128),
		"database_name", nvarchar(128), "server_name", nvarchar(128), "machine_name", nvarchar(128), "type", char(1),
		"first_lsn", typeLSN, "last_lsn", typeLSN, "checkpoint_lsn", typeLSN, "database_backup_lsn", typeLSN,
		"backup_start_date", typeDateTime, "backup_finish_date", typeDateTime, "is_copy_only", typeBit,
		"is_force_offline", typeBit, "has_backup_checksums", typeBit, "recovery_model", typeDesc,
		"backup_size", sqlType{Base: tNumeric, Prec: 20}, "compressed_backup_size", sqlType{Base: tNumeric, Prec: 20},
		"family_guid", typeGUID, "position", typeSmallInt, "first_recovery_fork_guid", typeGUID,
		"last_recovery_fork_guid", typeGUID, "fork_point_lsn", typeLSN, "time_zone", typeSmallInt,
	)}
	for _, b := range ec.in.backupSets {
		first, last := b.FirstForkGUID, b.LastForkGUID
		if last == "" { // history written before the simulator recorded forks
			first, last = b.FamilyGUID, b.FamilyGUID
		}
		r.Rows = append(r.Rows, []Value{
			intValue(int64(b.BackupSetID)), intValue(int64(b.MediaSetID)), nullIfEmpty(b.Name), strValue(b.UserName),
			strValue(b.DatabaseName), strValue(b.ServerName), strValue(b.ServerName), strValue(b.Type),
			lsnValue(b.FirstLSN), lsnValue(b.LastLSN), lsnValue(b.CheckpointLSN), lsnOrZero(b.DatabaseBackupLSN),
			timeValue(wallClock(b.StartDate, b.TimeZoneOffset)), timeValue(wallClock(b.FinishDate, b.TimeZoneOffset)), bitValue(b.IsCopyOnly),
			bitValue(b.IsForceOffline), bitValue(b.HasChecksums), strValue(b.RecoveryModel),
			numericValue(itoa(b.BackupSize)), numericValue(itoa(b.CompressedSize)), strValue(b.FamilyGUID),
			intValue(int64(max(b.Position, 1))), nullIfEmpty(first), nullIfEmpty(last), lsnValue(b.ForkPointLSN),
			intValue(timeZoneUnits(b.TimeZoneOffset)),
		})
	}
	return r
}

func (ec *execCtx) msdbBackupMediaFamily() relation {
	r := relation{Cols: cols("media_set_id", typeInt, "family_sequence_number", typeTinyInt, "physical_device_name", nvarchar(260), "device_type", typeTinyInt)}
	for _, m := range ec.in.mediaFamilies {
		r.Rows = append(r.Rows, []Value{intValue(int64(m.MediaSetID)), intValue(int64(m.FamilySequence)), strValue(m.PhysicalDeviceName), intValue(int64(m.DeviceType))})
	}
	return r
}

func (ec *execCtx) msdbRestoreHistory() relation {
	r := relation{Cols: cols(
		"restore_history_id", typeInt, "restore_date", typeDateTime, "destination_database_name", nvarchar(128),
		"user_name", nvarchar(128), "backup_set_id", typeInt, "restore_type", char(1), "replace", typeBit, "recovery", typeBit,
	)}
	for _, h := range ec.in.restoreHistory {
		r.Rows = append(r.Rows, []Value{
			intValue(int64(h.RestoreHistoryID)), timeValue(ec.in.local(h.RestoreDate)), strValue(h.DestinationDatabaseName),
			strValue(h.UserName), intValue(int64(h.BackupSetID)), strValue(h.RestoreType), bitValue(h.Replace), bitValue(h.Recovery),
		})
	}
	return r
}

func nullIfEmpty(s string) Value {
	if s == "" {
		return nullValue()
	}
	return strValue(s)
}

// lsnOrZero renders a zero LSN as 0 (RESTORE HEADERONLY and backupset show
// DatabaseBackupLSN 0 for the first full backup).
func lsnOrZero(l LSN) Value {
	if l.IsZero() {
		return numericValue("0")
	}
	return numericValue(l.String())
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// serverProperty answers SERVERPROPERTY(name). SQL Server returns
// sql_variant; the simulator returns nvarchar (documented).
func (ec *execCtx) serverProperty(name string) Value {
	switch strings.ToLower(name) {
	case "productversion":
		return strValue(ec.in.version)
	case "servername", "machinename", "computernamephysicalnetbios":
		return strValue(ec.in.serverName)
	case "instancename":
		return nullValue()
	case "edition":
		return strValue(ec.in.edition.Name)
	case "engineedition":
		return strValue(itoa(int64(ec.in.edition.Engine)))
	case "productlevel":
		return strValue("RTM")
	case "productmajorversion":
		return strValue(strings.Split(ec.in.version, ".")[0])
	case "collation":
		return strValue("SQL_Latin1_General_CP1_CI_AS")
	case "instancedefaultdatapath":
		return strValue(ec.in.dataPath + "/")
	case "instancedefaultlogpath":
		return strValue(ec.in.dataPath + "/")
	case "instancedefaultbackuppath":
		return strValue(ec.in.backupPath + "/")
	case "ishadrenabled", "isclustered", "issingleuser", "isfulltextinstalled":
		return strValue("0")
	case "isintegratedsecurityonly":
		return strValue("0")
	}
	return nullValue()
}
