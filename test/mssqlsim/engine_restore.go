package mssqlsim

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func (ec *execCtx) execRestore(s *restoreStmt) (stmtResult, error) {
	var err error
	var res stmtResult
	switch s.Kind {
	case "HEADERONLY":
		res, err = ec.restoreHeaderOnly(s)
	case "FILELISTONLY":
		res, err = ec.restoreFileListOnly(s)
	case "VERIFYONLY":
		res, err = ec.restoreVerifyOnly(s)
	default:
		res, err = ec.restore(s)
	}
	if err != nil {
		op := "RESTORE " + s.Kind
		return stmtResult{}, terminating(op, err)
	}
	return res, nil
}

// readBackupSets reads the media named by FROM DISK.
func (ec *execCtx) readBackupSets(s *restoreStmt) (string, []backupSet, error) {
	path, err := ec.devicePath(s.From, s.URL)
	if err != nil {
		return "", nil, err
	}
	sets, err := readMedia(path)
	if err != nil {
		if errors.Is(err, errNotMedia) {
			return path, nil, errMediaFamilyInvalid(path, err)
		}
		return path, nil, errCannotOpenDevice(path, err)
	}
	return path, sets, nil
}

// selectSet picks the backup set named by WITH FILE = n (default 1).
// readSelectedSet reads the backup file of s and picks the set that WITH FILE names (default 1).
func (ec *execCtx) readSelectedSet(s *restoreStmt) (string, *backupSet, error) {
	path, sets, err := ec.readBackupSets(s)
	if err != nil {
		return "", nil, err
	}
	set, err := ec.selectSet(s, path, sets)
	return path, set, err
}

func (ec *execCtx) selectSet(s *restoreStmt, path string, sets []backupSet) (*backupSet, error) {
	file := int64(1)
	if s.Opts.File != nil {
		v, err := (&env{ec: ec}).eval(s.Opts.File)
		if err != nil {
			return nil, err
		}
		n, ok := v.asInt64()
		if !ok {
			return nil, sqlErr(3249, 16, "FILE must be a positive integer.")
		}
		file = n
	}
	if file < 1 || int(file) > len(sets) {
		return nil, errBackupSetNotFound(int(file), path)
	}
	set := &sets[file-1]
	if set.Checksum != "" {
		sum, err := recordsChecksum(set.Records)
		if err != nil {
			return nil, err
		}
		if sum != set.Checksum {
			return nil, errChecksum(path)
		}
	}
	return set, nil
}

func (ec *execCtx) restoreHeaderOnly(s *restoreStmt) (stmtResult, error) {
	path, sets, err := ec.readBackupSets(s)
	if err != nil {
		return stmtResult{}, err
	}
	if s.Opts.File != nil {
		// WITH FILE = n: only that backup set's row.
		set, err := ec.selectSet(s, path, sets)
		if err != nil {
			return stmtResult{}, err
		}
		sets = []backupSet{*set}
	}
	cols := []resultColumn{}
	add := func(name string, t sqlType) { cols = append(cols, resultColumn{Name: name, Type: t, Nullable: true}) }
	add("BackupName", nvarchar(128))
	add("BackupDescription", nvarchar(255))
	add("BackupType", typeSmallInt)
	add("ExpirationDate", typeDateTime)
	add("Compressed", typeBit)
	add("Position", typeSmallInt)
	add("DeviceType", typeTinyInt)
	add("UserName", nvarchar(128))
	add("ServerName", nvarchar(128))
	add("DatabaseName", nvarchar(128))
	add("DatabaseVersion", typeInt)
	add("DatabaseCreationDate", typeDateTime)
	add("BackupSize", sqlType{Base: tNumeric, Prec: 20})
	add("FirstLSN", typeLSN)
	add("LastLSN", typeLSN)
	add("CheckpointLSN", typeLSN)
	add("DatabaseBackupLSN", typeLSN)
	add("BackupStartDate", typeDateTime)
	add("BackupFinishDate", typeDateTime)
	add("SoftwareVersionMajor", typeInt)
	add("MachineName", nvarchar(128))
	add("RecoveryForkID", typeGUID)
	add("FamilyGUID", typeGUID)
	add("HasBackupChecksums", typeBit)
	add("IsCopyOnly", typeBit)
	add("IsForceOffline", typeBit)
	add("FirstRecoveryForkID", typeGUID)
	add("ForkPointLSN", typeLSN)
	add("RecoveryModel", nvarchar(60))
	add("BackupTypeDescription", nvarchar(60))
	add("BackupSetGUID", typeGUID)
	var rows [][]Value
	for _, set := range sets {
		h := set.Header
		rows = append(rows, []Value{
			nullIfEmpty(h.BackupName), nullIfEmpty(h.BackupDescription), intValue(int64(h.BackupType)), nullValue(),
			bitValue(h.Compressed), intValue(int64(h.Position)), intValue(2), strValue(h.UserName), strValue(h.ServerName),
			strValue(h.DatabaseName), intValue(957), timeValue(wallClock(h.DatabaseCreation, h.TimeZoneOffset)), numericValue(itoa(int64(len(set.Records))*8192 + 8192)),
			lsnOrZero(h.FirstLSN), lsnOrZero(h.LastLSN), lsnOrZero(h.CheckpointLSN), lsnOrZero(h.DatabaseBackupLSN),
			timeValue(wallClock(h.BackupStartDate, h.TimeZoneOffset)), timeValue(wallClock(h.BackupFinishDate, h.TimeZoneOffset)), intValue(16), strValue(h.ServerName),
			strValue(h.FamilyGUID), strValue(h.family()), bitValue(h.HasBackupChecksums), bitValue(h.IsCopyOnly),
			bitValue(h.IsForceOffline), strValue(h.firstRecoveryForkID()), lsnValue(h.forkPointLSN()), strValue(h.RecoveryModel), strValue(h.typeDesc()), strValue(h.BackupSetGUID),
		})
	}
	if err := ec.writeResultSet(cols, rows); err != nil {
		return stmtResult{}, err
	}
	return stmtResult{cmd: cmdSelect, rows: int64(len(rows)), count: true}, nil
}

func (ec *execCtx) restoreFileListOnly(s *restoreStmt) (stmtResult, error) {
	_, set, err := ec.readSelectedSet(s)
	if err != nil {
		return stmtResult{}, err
	}
	cols := []resultColumn{
		{Name: "LogicalName", Type: nvarchar(128)}, {Name: "PhysicalName", Type: nvarchar(260)},
		{Name: "Type", Type: char(1)}, {Name: "FileGroupName", Type: nvarchar(128), Nullable: true},
		{Name: "Size", Type: sqlType{Base: tNumeric, Prec: 20}}, {Name: "MaxSize", Type: sqlType{Base: tNumeric, Prec: 20}},
		{Name: "FileId", Type: typeBigInt}, {Name: "BackupSizeInBytes", Type: sqlType{Base: tNumeric, Prec: 20}},
		{Name: "IsReadOnly", Type: typeBit}, {Name: "IsPresent", Type: typeBit},
	}
	var rows [][]Value
	for _, f := range set.Header.Files {
		typ, group := "D", strValue("PRIMARY")
		if f.Type == "LOG" {
			typ, group = "L", nullValue()
		}
		rows = append(rows, []Value{
			strValue(f.LogicalName), strValue(f.PhysicalName), strValue(typ), group,
			numericValue(itoa(f.SizePages * 8192)), numericValue("35184372080640"), intValue(int64(f.FileID)),
			numericValue(itoa(int64(len(set.Records)) * 8192)), bitValue(false), bitValue(true),
		})
	}
	if err := ec.writeResultSet(cols, rows); err != nil {
		return stmtResult{}, err
	}
	return stmtResult{cmd: cmdSelect, rows: int64(len(rows)), count: true}, nil
}

func (ec *execCtx) restoreVerifyOnly(s *restoreStmt) (stmtResult, error) {
	_, set, err := ec.readSelectedSet(s)
	if err != nil {
		return stmtResult{}, err
	}
	if s.Opts.Checksum && !set.Header.HasBackupChecksums {
		return stmtResult{}, errNoChecksums()
	}
	ec.writeInfo(3262, "The backup set on file %d is valid.", set.Header.Position)
	return stmtResult{}, nil
}

// standbyPath evaluates and validates the STANDBY undo file before the
// restore changes anything.
func (ec *execCtx) standbyPath(s *restoreStmt) (string, error) {
	if s.Opts.Standby == nil {
		return "", nil
	}
	path, err := ec.evalString(s.Opts.Standby, "The standby file name")
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(ec.in.dataPath, path)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return "", errCannotOpenDevice(path, err)
	}
	return path, nil
}

// restoreTargetState applies RECOVERY / NORECOVERY / STANDBY to d after a
// restore step and writes the standby undo file when needed.
func (ec *execCtx) restoreTargetState(d *database, s *restoreStmt, redo LSN) error {
	d.RedoLSN = redo
	d.Standby, d.ReadOnly = false, false
	switch {
	case s.Opts.NoRecovery:
		d.State = stateRestoring
		d.StandbyFile = ""
	case s.Opts.Standby != nil:
		path, err := ec.standbyPath(s)
		if err != nil {
			return err
		}
		undo, _ := json.Marshal(map[string]any{"database": d.Name, "redoLsn": redo.String(), "written": time.Now().UTC()})
		if err := os.WriteFile(path, undo, 0o644); err != nil {
			return errCannotOpenDevice(path, err)
		}
		d.State = stateOnline
		d.Standby, d.ReadOnly = true, true
		d.StandbyFile = path
	default:
		d.State = stateOnline
		d.StandbyFile = ""
		d.RedoLSN = LSN{}
		// Recovery starts a new recovery fork at the end of the restored
		// log: log backups of the source taken after that point no longer
		// apply, while a database restoring on the old fork at or before
		// the fork point can follow the new one.
		d.ForkParentGUID, d.ForkPointLSN = d.FamilyGUID, d.EndLSN
		d.FamilyGUID = newGUID()
	}
	return nil
}

func (ec *execCtx) restore(s *restoreStmt) (stmtResult, error) {
	if ec.sess.tranCount > 0 {
		return stmtResult{}, errInTransaction()
	}
	name, err := ec.evalString(s.DB, "The database name")
	if err != nil {
		return stmtResult{}, err
	}
	if strings.EqualFold(name, "tempdb") || strings.EqualFold(name, "master") {
		return stmtResult{}, sqlErr(3147, 16, "Backup and restore operations on database %s are not supported by mssqlsim.", name)
	}
	d := ec.in.db(name)
	if d != nil {
		if strings.EqualFold(ec.sess.database, d.Name) {
			return stmtResult{}, errInUseBySession(d.Name)
		}
		if err := ec.takeExclusive(d, false, errExclusiveAccess()); err != nil {
			return stmtResult{}, err
		}
	}
	if _, err := ec.standbyPath(s); err != nil {
		return stmtResult{}, err
	}
	if len(s.From) == 0 {
		return ec.recoverOnly(d, name, s)
	}
	path, set, err := ec.readSelectedSet(s)
	if err != nil {
		return stmtResult{}, err
	}
	if s.Opts.Checksum && !set.Header.HasBackupChecksums {
		return stmtResult{}, errNoChecksums()
	}
	if s.Kind == "LOG" {
		return ec.restoreLog(d, name, s, path, set)
	}
	return ec.restoreDatabase(d, name, s, path, set)
}

// recoverOnly implements RESTORE DATABASE x WITH RECOVERY (no FROM).
func (ec *execCtx) recoverOnly(d *database, name string, s *restoreStmt) (stmtResult, error) {
	if d == nil {
		return stmtResult{}, errDBNotExist(name)
	}
	if d.State != stateRestoring && !d.Standby {
		return stmtResult{}, sqlErr(3153, 16, "The database is already fully recovered.")
	}
	if s.Opts.NoRecovery || s.Opts.Standby != nil {
		if err := ec.restoreTargetState(d, s, d.RedoLSN); err != nil {
			return stmtResult{}, err
		}
	} else {
		if err := ec.restoreTargetState(d, s, LSN{}); err != nil {
			return stmtResult{}, err
		}
	}
	if err := ec.in.saveLocked(); err != nil {
		return stmtResult{}, err
	}
	ec.writeInfo(3014, "RESTORE DATABASE successfully processed 0 pages in 0.001 seconds (0.000 MB/sec).")
	return stmtResult{}, nil
}

func (ec *execCtx) restoreDatabase(d *database, name string, s *restoreStmt, path string, set *backupSet) (stmtResult, error) {
	h := set.Header
	if h.BackupType != backupTypeDatabase {
		return stmtResult{}, errWrongBackupKind("LOG")
	}
	if d != nil && !s.Opts.Replace {
		// The REPLACE safety check: an existing database of another
		// family (another database, even of the same name) is not
		// overwritten. Another fork of the same family is not another
		// database.
		if h.family() != d.family() {
			return stmtResult{}, errBackupOtherDB(d.Name)
		}
		if d.State == stateOnline && !d.Standby && d.Recovery != recoverySimple && !d.LogChainStart.IsZero() && d.LastLogBackupLSN.Cmp(d.EndLSN) != 0 {
			return stmtResult{}, errTailNotBackedUp(d.Name)
		}
	}
	files := append([]dbFile{}, h.Files...)
	for _, mv := range s.Opts.Moves {
		logical, err := ec.evalString(mv.Logical, "MOVE logical file name")
		if err != nil {
			return stmtResult{}, err
		}
		physical, err := ec.evalString(mv.Physical, "MOVE physical file name")
		if err != nil {
			return stmtResult{}, err
		}
		found := false
		for i := range files {
			if strings.EqualFold(files[i].LogicalName, logical) {
				files[i].PhysicalName, found = physical, true
			}
		}
		if !found {
			return stmtResult{}, errLogicalFileNotInDB(logical, name)
		}
		if st, err := os.Stat(filepath.Dir(physical)); err != nil || !st.IsDir() {
			return stmtResult{}, errDirectoryLookup(physical)
		}
	}
	id, gen := 0, 1
	if d != nil {
		id, gen = d.ID, d.LogGeneration+1
	} else {
		id = ec.in.nextDBID
		ec.in.nextDBID++
	}
	nd := newDatabase(dbMeta{
		ID: id, Name: name, FamilyGUID: h.FamilyGUID, BackupFamilyGUID: h.family(), ForkParentGUID: h.ForkParentGUID, ForkPointLSN: h.ForkPointLSN,
		Recovery: h.RecoveryModel, State: stateRestoring,
		UserAccess: accessMulti, CreateDate: h.DatabaseCreation, Files: files, EndLSN: h.LastLSN,
		LastFullCheckpointLSN: h.CheckpointLSN, LogGeneration: gen,
		// The restoring login owns the result and TRUSTWORTHY is off, whatever the source had.
		OwnerSID: ec.callerSID(),
	})
	if h.RecoveryModel != recoverySimple {
		nd.LogChainStart = h.FirstLSN
	}
	if err := nd.rebuild(set.Records); err != nil {
		return stmtResult{}, errMediaFamilyInvalid(path, err)
	}
	nd.EndLSN = h.LastLSN
	if err := ec.restoreTargetState(nd, s, h.LastLSN); err != nil {
		return stmtResult{}, err
	}
	if err := ec.in.store.writeLog(nd.ID, nd.LogGeneration, nd.records); err != nil {
		return stmtResult{}, err
	}
	ec.in.dbs[strings.ToLower(name)] = nd
	if d != nil && !strings.EqualFold(d.Name, name) {
		delete(ec.in.dbs, strings.ToLower(d.Name))
	}
	ec.recordRestoreHistory(h, path, name, "D", s)
	if err := ec.in.saveLocked(); err != nil {
		return stmtResult{}, err
	}
	if d != nil {
		ec.in.store.removeLog(d.ID, d.LogGeneration)
	}
	pages := int64(len(set.Records)) + 1
	ec.writeInfo(4035, "Processed %d pages for database '%s', file '%s' on file %d.", pages, name, files[0].LogicalName, h.Position)
	ec.writeInfo(3014, "RESTORE DATABASE successfully processed %d pages in 0.010 seconds (1.000 MB/sec).", pages)
	return stmtResult{}, nil
}

func (ec *execCtx) restoreLog(d *database, name string, s *restoreStmt, path string, set *backupSet) (stmtResult, error) {
	h := set.Header
	if d == nil {
		return stmtResult{}, errDBNotExist(name)
	}
	if h.BackupType != backupTypeLog {
		return stmtResult{}, errWrongBackupKind("DATABASE")
	}
	if d.State != stateRestoring && !d.Standby {
		return stmtResult{}, errNotRestoring()
	}
	if d.Standby {
		if _, err := os.Stat(d.StandbyFile); err != nil {
			return stmtResult{}, errStandbyFileMissing(d.Name, d.StandbyFile, err)
		}
	}
	redo := d.RedoLSN
	// A log backup of a newer recovery fork applies when the database is
	// on the fork it branched from and has not gone past the fork point.
	switchFork := h.FamilyGUID != d.FamilyGUID && h.ForkParentGUID == d.FamilyGUID && redo.Cmp(h.ForkPointLSN) <= 0
	// A log backup of the fork the database's own fork branched from that
	// ends at or before the fork point is on the database's recovery path:
	// the LSN rules below refuse it as too early (4326).
	ancestor := h.FamilyGUID == d.ForkParentGUID && h.LastLSN.Cmp(d.ForkPointLSN) <= 0
	switch {
	case h.family() != d.family():
		// Another database altogether.
		return stmtResult{}, errBackupOtherDB(d.Name)
	case h.FamilyGUID != d.FamilyGUID && !switchFork && !ancestor:
		// The same database on another recovery path: a fork the database
		// did not follow, or one it went past the fork point of.
		return stmtResult{}, errInconsistentRecoveryPath()
	}
	// LSN rules: a log backup applies when FirstLSN <= redo < LastLSN.
	if h.FirstLSN.Cmp(redo) > 0 {
		return stmtResult{}, errLogTooRecent(h.FirstLSN, h.LastLSN, redo)
	}
	if h.LastLSN.Cmp(redo) <= 0 {
		return stmtResult{}, errLogTooEarly(h.LastLSN)
	}
	var apply []logRecord
	for _, r := range set.Records {
		if r.LSN.Cmp(redo) >= 0 && r.LSN.Cmp(h.LastLSN) < 0 {
			apply = append(apply, r)
		}
	}
	if err := ec.in.store.appendRecords(d.ID, d.LogGeneration, apply); err != nil {
		return stmtResult{}, err
	}
	for _, r := range apply {
		if err := d.apply(r); err != nil {
			return stmtResult{}, errMediaFamilyInvalid(path, err)
		}
		d.records = append(d.records, r)
	}
	d.EndLSN = h.LastLSN
	d.LastLogBackupLSN = h.LastLSN
	if switchFork {
		d.FamilyGUID, d.ForkParentGUID, d.ForkPointLSN = h.FamilyGUID, h.ForkParentGUID, h.ForkPointLSN
	}
	if err := ec.restoreTargetState(d, s, h.LastLSN); err != nil {
		return stmtResult{}, err
	}
	ec.recordRestoreHistory(h, path, d.Name, "L", s)
	if err := ec.in.saveLocked(); err != nil {
		return stmtResult{}, err
	}
	pages := int64(len(apply)) + 1
	ec.writeInfo(4035, "Processed %d pages for database '%s', file '%s' on file %d.", pages, d.Name, d.Files[len(d.Files)-1].LogicalName, h.Position)
	ec.writeInfo(3014, "RESTORE LOG successfully processed %d pages in 0.010 seconds (1.000 MB/sec).", pages)
	return stmtResult{}, nil
}

// recordRestoreHistory adds the restored set to msdb (backupset,
// backupmediafamily) and a restorehistory row pointing at it.
func (ec *execCtx) recordRestoreHistory(h backupHeader, path, dest, typ string, s *restoreStmt) {
	setID := ec.recordBackupHistory(h, path, 0, 0)
	id := 1
	for _, r := range ec.in.restoreHistory {
		id = max(id, r.RestoreHistoryID+1)
	}
	ec.in.restoreHistory = append(ec.in.restoreHistory, restoreHistoryRow{
		RestoreHistoryID: id, RestoreDate: time.Now().UTC(), DestinationDatabaseName: dest, UserName: ec.sess.login,
		BackupSetID: setID, RestoreType: typ, Replace: s.Opts.Replace, Recovery: !s.Opts.NoRecovery && s.Opts.Standby == nil,
	})
}
