package mssqlsim

import (
	"errors"
	"path/filepath"
	"strings"
	"time"
)

// devicePath evaluates a single DISK = target; relative paths are resolved
// against the instance default backup directory, as SQL Server does.
func (ec *execCtx) devicePath(devs []expr, url bool) (string, error) {
	if url {
		return "", errURLNotSupported()
	}
	if len(devs) != 1 {
		return "", errNotSupported("striped backup media (more than one DISK)")
	}
	p, err := ec.evalString(devs[0], "The backup device name")
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", errCannotOpenDevice(p, errors.New("empty path"))
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(ec.in.backupPath, p)
	}
	return p, nil
}

func (ec *execCtx) execBackup(s *backupStmt) (stmtResult, error) {
	op := backupStatementName(s.Log)
	res, err := ec.backup(s)
	if err != nil {
		return stmtResult{}, terminating(op, err)
	}
	return res, nil
}

// backupStatementName is how SQL Server names the statement in its messages.
func backupStatementName(log bool) string {
	if log {
		return "BACKUP LOG"
	}
	return "BACKUP DATABASE"
}

func (ec *execCtx) backup(s *backupStmt) (stmtResult, error) {
	if ec.sess.tranCount > 0 {
		return stmtResult{}, errInTransaction()
	}
	name, err := ec.evalString(s.DB, "The database name")
	if err != nil {
		return stmtResult{}, err
	}
	path, err := ec.devicePath(s.Disks, s.URL)
	if err != nil {
		return stmtResult{}, err
	}
	d := ec.in.db(name)
	if d == nil {
		return stmtResult{}, errDBNotExist(name)
	}
	if d.Name == "tempdb" {
		return stmtResult{}, sqlErr(3147, 16, "Backup and restore operations are not allowed on database tempdb.")
	}
	switch d.State {
	case stateRestoring:
		return stmtResult{}, errDBRestoring(d.Name)
	case stateOffline:
		return stmtResult{}, errDBOffline(d.Name)
	}
	if d.Standby {
		return stmtResult{}, sqlErr(3036, 16, "The database \"%s\" is in warm-standby state (set by executing RESTORE WITH STANDBY) and cannot be backed up until the entire restore sequence is completed.", d.Name)
	}
	if s.Log {
		if d.Recovery == recoverySimple {
			return stmtResult{}, errSimpleRecovery()
		}
		if d.LogChainStart.IsZero() {
			return stmtResult{}, errNoCurrentBackup()
		}
		if s.Opts.NoRecovery {
			if strings.EqualFold(ec.sess.database, d.Name) {
				return stmtResult{}, errExclusiveAccess()
			}
			if err := ec.takeExclusive(d, false, errExclusiveAccess()); err != nil {
				return stmtResult{}, err
			}
		}
	}
	if s.Opts.Compression && !ec.in.edition.Compression {
		return stmtResult{}, errCompressionUnsupported(backupStatementName(s.Log), ec.in.edition)
	}
	start := time.Now().UTC()
	// Every backup writes a log record (a checkpoint for a full backup, a
	// log-backup marker otherwise), so consecutive backups always cover a
	// non-empty LSN range, as on a real server.
	marker := opLogBackup
	if !s.Log {
		marker = opCheckpoint
	}
	if err := ec.in.commitLocked(d, []logRecord{{Op: marker}}); err != nil {
		return stmtResult{}, err
	}
	h := backupHeader{
		UserName: ec.sess.login, ServerName: ec.in.serverName, DatabaseName: d.Name,
		DatabaseCreation: d.CreateDate, RecoveryModel: d.Recovery, FamilyGUID: d.FamilyGUID, BackupFamilyGUID: d.family(),
		ForkParentGUID: d.ForkParentGUID, ForkPointLSN: d.ForkPointLSN,
		BackupSetGUID: newGUID(), HasBackupChecksums: s.Opts.Checksum, IsCopyOnly: s.Opts.CopyOnly,
		IsForceOffline: s.Log && s.Opts.NoRecovery, BackupStartDate: start, TimeZoneOffset: ec.in.offsetAt(start),
		LastLSN: d.EndLSN, CheckpointLSN: d.LastCheckpointLSN, DatabaseBackupLSN: d.LastFullCheckpointLSN,
		Files: append([]dbFile{}, d.Files...),
	}
	if s.Opts.Name != nil {
		if h.BackupName, err = ec.evalString(s.Opts.Name, "NAME"); err != nil {
			return stmtResult{}, err
		}
	}
	if s.Opts.Description != nil {
		if h.BackupDescription, err = ec.evalString(s.Opts.Description, "DESCRIPTION"); err != nil {
			return stmtResult{}, err
		}
	}
	var recs []logRecord
	if s.Log {
		h.BackupType = backupTypeLog
		h.FirstLSN = d.LastLogBackupLSN
		if h.FirstLSN.IsZero() {
			h.FirstLSN = d.LogChainStart
		}
		recs = d.recordsBetween(h.FirstLSN, h.LastLSN)
	} else {
		h.BackupType = backupTypeDatabase
		h.FirstLSN = d.LastCheckpointLSN
		recs = d.recordsBetween(LSN{}, h.LastLSN)
	}
	set := &backupSet{Header: h, Records: recs}
	if s.Opts.Checksum {
		if set.Checksum, err = recordsChecksum(recs); err != nil {
			return stmtResult{}, err
		}
	}
	set.Header.BackupFinishDate = time.Now().UTC()
	position, size, csize, err := writeMedia(path, set, s.Opts.Init || s.Opts.Format, s.Opts.Compression && !s.Opts.NoCompression)
	if err != nil {
		if errors.Is(err, errNotMedia) {
			return stmtResult{}, errMediaFamilyInvalid(path, err)
		}
		return stmtResult{}, errCannotOpenDevice(path, err)
	}
	_ = position
	// Update the database after the media is durable.
	if !s.Opts.CopyOnly {
		if s.Log {
			d.LastLogBackupLSN = h.LastLSN
		} else {
			d.LastFullCheckpointLSN = h.CheckpointLSN
			if d.Recovery != recoverySimple && d.LogChainStart.IsZero() {
				d.LogChainStart = h.FirstLSN
			}
		}
	}
	if s.Log && s.Opts.NoRecovery {
		d.State = stateRestoring
		d.RedoLSN = h.LastLSN
	}
	ec.recordBackupHistory(set.Header, path, size, csize)
	if err := ec.in.saveLocked(); err != nil {
		return stmtResult{}, err
	}
	pages := int64(len(recs)) + 1
	op := "BACKUP DATABASE"
	if s.Log {
		op = "BACKUP LOG"
		ec.writeInfo(4035, "Processed %d pages for database '%s', file '%s' on file %d.", pages, d.Name, d.Files[len(d.Files)-1].LogicalName, set.Header.Position)
	} else {
		ec.writeInfo(4035, "Processed %d pages for database '%s', file '%s' on file %d.", pages, d.Name, d.Files[0].LogicalName, set.Header.Position)
	}
	ec.writeInfo(3014, "%s successfully processed %d pages in %.3f seconds (%.3f MB/sec).", op, pages, time.Since(start).Seconds(), float64(size)/1e6/max(time.Since(start).Seconds(), 0.001))
	return stmtResult{}, nil
}

// recordBackupHistory adds msdb.dbo.backupset and backupmediafamily rows.
//
// A set appended to a media (Position > 1) belongs to the media set of the
// sets before it, as in SQL Server: backupmediafamily keeps one row per media
// family and backupset.position tells the sets apart.
func (ec *execCtx) recordBackupHistory(h backupHeader, path string, size, csize int64) int {
	mediaID, appended := 0, false
	if h.Position > 1 {
		for i := len(ec.in.mediaFamilies) - 1; i >= 0; i-- {
			if ec.in.mediaFamilies[i].PhysicalDeviceName == path {
				mediaID, appended = ec.in.mediaFamilies[i].MediaSetID, true
				break
			}
		}
	}
	if !appended {
		mediaID = ec.in.nextMediaSetID()
	}
	setID := ec.in.nextBackupSetID()
	typ := "D"
	if h.BackupType == backupTypeLog {
		typ = "L"
	}
	ec.in.backupSets = append(ec.in.backupSets, backupSetRow{
		BackupSetID: setID, MediaSetID: mediaID, Name: h.BackupName, DatabaseName: h.DatabaseName, Type: typ,
		FirstLSN: h.FirstLSN, LastLSN: h.LastLSN, CheckpointLSN: h.CheckpointLSN, DatabaseBackupLSN: h.DatabaseBackupLSN,
		StartDate: h.BackupStartDate, FinishDate: h.BackupFinishDate, TimeZoneOffset: h.TimeZoneOffset, IsCopyOnly: h.IsCopyOnly, ServerName: h.ServerName,
		RecoveryModel: h.RecoveryModel, BackupSize: size, CompressedSize: csize, HasChecksums: h.HasBackupChecksums,
		IsForceOffline: h.IsForceOffline, FamilyGUID: h.family(), UserName: h.UserName,
		Position: max(h.Position, 1), FirstForkGUID: h.firstRecoveryForkID(), LastForkGUID: h.FamilyGUID, ForkPointLSN: h.forkPointLSN(),
	})
	if !appended {
		ec.in.mediaFamilies = append(ec.in.mediaFamilies, mediaFamilyRow{MediaSetID: mediaID, FamilySequence: 1, PhysicalDeviceName: path, DeviceType: 2})
	}
	return setID
}
