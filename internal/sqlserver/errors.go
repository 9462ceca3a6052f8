package sqlserver

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strconv"
	"syscall"

	mssql "github.com/microsoft/go-mssqldb"
)

// Kind is the class of a failure, as far as the operator needs to react to
// it differently.
type Kind int

// Kinds of failure. KindUnknown is any error not listed here.
const (
	KindUnknown Kind = iota
	// KindLogTooRecent (4305): the log backup begins after the redo point,
	// an earlier log backup is missing (a gap in the chain).
	KindLogTooRecent
	// KindLogTooEarly (4326): the log backup ends at or before the redo
	// point; it was already applied.
	KindLogTooEarly
	// KindNotRestoring (3117): a log restore on a database that is not
	// RESTORING or STANDBY (it was recovered).
	KindNotRestoring
	// KindAlreadyRecovered (3153): RESTORE ... WITH RECOVERY on a database
	// that is already recovered.
	KindAlreadyRecovered
	// KindDatabaseInUse (3101, 3102, 5061): exclusive access could not be
	// obtained because sessions use the database.
	KindDatabaseInUse
	// KindNoFullBackup (4214): BACKUP LOG without a current full backup.
	KindNoFullBackup
	// KindSimpleRecovery (4208): BACKUP LOG in the SIMPLE recovery model.
	KindSimpleRecovery
	// KindBackupDevice (3201, 3202, 5133, 22048): the backup file, its
	// directory or a MOVE target cannot be opened, written or created.
	KindBackupDevice
	// KindBackupMedia (3241, 3183, 3135, 3206): the file is not a usable
	// backup: corrupt, checksum mismatch, wrong backup type or set.
	KindBackupMedia
	// KindBackupOfOtherDatabase (3154): the backup holds another database:
	// RESTORE DATABASE over an existing database of another family (even
	// of the same name), or RESTORE LOG of another database's log backup.
	// REPLACE would overwrite the existing database.
	KindBackupOfOtherDatabase
	// KindTailNotBackedUp (3159): restoring over an online database whose
	// log tail was not backed up; REPLACE would lose it.
	KindTailNotBackedUp
	// KindStandbyFileMissing (3441): the STANDBY undo file of the previous
	// restore is gone.
	KindStandbyFileMissing
	// KindDatabaseUnavailable (927, 904, 942, 924, 4060, 922, 945, 950):
	// the database is restoring, offline, single-user or otherwise cannot be
	// opened.
	KindDatabaseUnavailable
	// KindDatabaseNotFound (911): the database does not exist.
	KindDatabaseNotFound
	// KindReadOnly (3906): a write to a read-only or STANDBY database.
	KindReadOnly
	// KindLoginFailed (18456, 18452, 18486, 18487, 18488): authentication
	// failed.
	KindLoginFailed
	// KindTerminated (3013): a BACKUP or RESTORE terminated abnormally
	// without a cause this package recognises.
	KindTerminated
	// KindUnreachable: the server could not be reached or did not answer in
	// time (network errors, timeouts, closed connections).
	KindUnreachable
	// KindCanceled: the caller's context was canceled.
	KindCanceled
	// KindUnexpectedState: the server answered but a database is not in the
	// state its role needs (see DatabaseStateError).
	KindUnexpectedState
	// KindRecoveryPathMismatch (4330): the backup is of the same database
	// but on a recovery path (fork) the database is not on: log backups of
	// an abandoned primary after a failover, or of the new primary on a
	// standby that went past the fork point. Only a full backup of the
	// path wanted repairs it.
	KindRecoveryPathMismatch
	// KindChecksumMissing (3187): RESTORE ... WITH CHECKSUM of a backup
	// set that was taken without checksums.
	KindChecksumMissing
	// KindLoginNotEncrypted: the connection was refused before the login
	// was sent because it, and the password, would have travelled in
	// clear (*LoginEncryptionError, ErrLoginNotEncrypted). Retrying does
	// not help: the server needs a certificate, or the user chooses tls
	// mode Disable.
	KindLoginNotEncrypted
	// KindCertificateNotTrusted: the server's TLS certificate failed
	// verification (unknown CA, or not issued for the name dialed;
	// *CertificateError). Retrying does not help: the CA must be trusted
	// (caSecretRef) or the name must match (the certificate's SANs,
	// hostNameInCertificate).
	KindCertificateNotTrusted
)

// lastKind is the highest Kind.
const lastKind = KindCertificateNotTrusted

var kindNames = map[Kind]string{
	KindUnknown:               "Unknown",
	KindLogTooRecent:          "LogTooRecent",
	KindLogTooEarly:           "LogTooEarly",
	KindNotRestoring:          "NotRestoring",
	KindAlreadyRecovered:      "AlreadyRecovered",
	KindDatabaseInUse:         "DatabaseInUse",
	KindNoFullBackup:          "NoFullBackup",
	KindSimpleRecovery:        "SimpleRecovery",
	KindBackupDevice:          "BackupDevice",
	KindBackupMedia:           "BackupMedia",
	KindBackupOfOtherDatabase: "BackupOfOtherDatabase",
	KindTailNotBackedUp:       "TailNotBackedUp",
	KindStandbyFileMissing:    "StandbyFileMissing",
	KindDatabaseUnavailable:   "DatabaseUnavailable",
	KindDatabaseNotFound:      "DatabaseNotFound",
	KindReadOnly:              "ReadOnly",
	KindLoginFailed:           "LoginFailed",
	KindTerminated:            "Terminated",
	KindUnreachable:           "Unreachable",
	KindCanceled:              "Canceled",
	KindUnexpectedState:       "UnexpectedState",
	KindRecoveryPathMismatch:  "RecoveryPathMismatch",
	KindChecksumMissing:       "ChecksumMissing",
	KindLoginNotEncrypted:     "LoginNotEncrypted",
	KindCertificateNotTrusted: "CertificateNotTrusted",
}

// String returns the kind's name, e.g. "LogTooRecent".
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Retryable reports whether retrying the same operation later may succeed
// without anyone changing anything: the server was unreachable or the
// database was busy or briefly unavailable.
func (k Kind) Retryable() bool {
	switch k {
	case KindUnreachable, KindDatabaseInUse, KindDatabaseUnavailable:
		return true
	}
	return false
}

// SQL Server error numbers this package reacts to.
const (
	ErrNumLogTooRecent          = 4305
	ErrNumLogTooEarly           = 4326
	ErrNumNotRestoring          = 3117
	ErrNumAlreadyRecovered      = 3153
	ErrNumExclusiveAccess       = 3101
	ErrNumInUseBySession        = 3102
	ErrNumAlterLock             = 5061
	ErrNumNoCurrentBackup       = 4214
	ErrNumSimpleRecovery        = 4208
	ErrNumCannotOpenDevice      = 3201
	ErrNumWriteDevice           = 3202
	ErrNumDirectoryLookup       = 5133
	ErrNumCreateSubdir          = 22048
	ErrNumMediaInvalid          = 3241
	ErrNumChecksum              = 3183
	ErrNumWrongBackupType       = 3135
	ErrNumBackupSetNotFound     = 3206
	ErrNumBackupOfOtherDatabase = 3154
	ErrNumRecoveryPathMismatch  = 4330
	ErrNumChecksumMissing       = 3187
	ErrNumTailNotBackedUp       = 3159
	ErrNumStandbyFileMissing    = 3441
	ErrNumDatabaseRestoring     = 927
	ErrNumDatabaseUnavailable   = 904
	ErrNumDatabaseOffline       = 942
	ErrNumDatabaseSingleUser    = 924
	ErrNumDatabaseSuspect       = 922
	ErrNumDatabaseNotOpened     = 945
	ErrNumDatabaseVersion       = 950
	ErrNumCannotOpenLoginDB     = 4060
	ErrNumDatabaseNotFound      = 911
	ErrNumReadOnly              = 3906
	ErrNumLoginFailed           = 18456
	ErrNumLoginUntrusted        = 18452
	ErrNumLoginExpired          = 18486
	ErrNumLoginMustChange       = 18487
	ErrNumLoginLocked           = 18488
	ErrNumTerminating           = 3013
	ErrNumLoginExists           = 15025
)

// Precedence of a number's kind when several errors come back together:
// the specific cause beats the generic wrapper (3013, 18456) that SQL
// Server sends after it.
const (
	rankGeneric  = 1
	rankDatabase = 2
	rankSpecific = 3
)

type numberKind struct {
	kind Kind
	rank int
}

var errorNumberKinds = map[int32]numberKind{
	ErrNumLogTooRecent:          {KindLogTooRecent, rankSpecific},
	ErrNumLogTooEarly:           {KindLogTooEarly, rankSpecific},
	ErrNumNotRestoring:          {KindNotRestoring, rankSpecific},
	ErrNumAlreadyRecovered:      {KindAlreadyRecovered, rankSpecific},
	ErrNumExclusiveAccess:       {KindDatabaseInUse, rankSpecific},
	ErrNumInUseBySession:        {KindDatabaseInUse, rankSpecific},
	ErrNumAlterLock:             {KindDatabaseInUse, rankSpecific},
	ErrNumNoCurrentBackup:       {KindNoFullBackup, rankSpecific},
	ErrNumSimpleRecovery:        {KindSimpleRecovery, rankSpecific},
	ErrNumCannotOpenDevice:      {KindBackupDevice, rankSpecific},
	ErrNumWriteDevice:           {KindBackupDevice, rankSpecific},
	ErrNumDirectoryLookup:       {KindBackupDevice, rankSpecific},
	ErrNumCreateSubdir:          {KindBackupDevice, rankSpecific},
	ErrNumMediaInvalid:          {KindBackupMedia, rankSpecific},
	ErrNumChecksum:              {KindBackupMedia, rankSpecific},
	ErrNumWrongBackupType:       {KindBackupMedia, rankSpecific},
	ErrNumBackupSetNotFound:     {KindBackupMedia, rankSpecific},
	ErrNumBackupOfOtherDatabase: {KindBackupOfOtherDatabase, rankSpecific},
	ErrNumRecoveryPathMismatch:  {KindRecoveryPathMismatch, rankSpecific},
	ErrNumChecksumMissing:       {KindChecksumMissing, rankSpecific},
	ErrNumTailNotBackedUp:       {KindTailNotBackedUp, rankSpecific},
	ErrNumStandbyFileMissing:    {KindStandbyFileMissing, rankSpecific},
	ErrNumDatabaseRestoring:     {KindDatabaseUnavailable, rankSpecific},
	ErrNumDatabaseUnavailable:   {KindDatabaseUnavailable, rankSpecific},
	ErrNumDatabaseOffline:       {KindDatabaseUnavailable, rankSpecific},
	ErrNumDatabaseSingleUser:    {KindDatabaseUnavailable, rankSpecific},
	ErrNumDatabaseSuspect:       {KindDatabaseUnavailable, rankSpecific},
	ErrNumDatabaseNotOpened:     {KindDatabaseUnavailable, rankSpecific},
	ErrNumDatabaseVersion:       {KindDatabaseUnavailable, rankSpecific},
	ErrNumDatabaseNotFound:      {KindDatabaseNotFound, rankSpecific},
	ErrNumReadOnly:              {KindReadOnly, rankSpecific},
	ErrNumCannotOpenLoginDB:     {KindDatabaseUnavailable, rankDatabase},
	ErrNumLoginFailed:           {KindLoginFailed, rankGeneric},
	ErrNumLoginUntrusted:        {KindLoginFailed, rankGeneric},
	ErrNumLoginExpired:          {KindLoginFailed, rankGeneric},
	ErrNumLoginMustChange:       {KindLoginFailed, rankGeneric},
	ErrNumLoginLocked:           {KindLoginFailed, rankGeneric},
	ErrNumTerminating:           {KindTerminated, rankGeneric},
}

// SQLErrors returns every server error carried by err, first to last
// (mssql.Error.All), or nil when err carries none.
func SQLErrors(err error) []mssql.Error {
	var me mssql.Error
	if !errors.As(err, &me) {
		var pme *mssql.Error
		if !errors.As(err, &pme) || pme == nil {
			return nil
		}
		me = *pme
	}
	if len(me.All) == 0 {
		return []mssql.Error{me}
	}
	return me.All
}

// ErrorNumbers lists the server error numbers carried by err, first to last.
func ErrorNumbers(err error) []int32 {
	var out []int32
	for _, e := range SQLErrors(err) {
		out = append(out, e.Number)
	}
	return out
}

// HasErrorNumber reports whether any server error carried by err (any entry
// of mssql.Error.All, not only the last one in Number) has number n.
func HasErrorNumber(err error, n int32) bool {
	for _, e := range SQLErrors(err) {
		if e.Number == n {
			return true
		}
	}
	return false
}

// Classify returns the Kind of err. Server errors are looked up in every
// entry of mssql.Error.All; the most specific one wins (a failed RESTORE
// reports 4305 then 3013: the kind is KindLogTooRecent). A login refused
// by the PRELOGIN guard is KindLoginNotEncrypted, whatever the driver
// wrapped it in. Network errors, closed connections and deadlines are
// KindUnreachable.
func Classify(err error) Kind {
	if err == nil {
		return KindUnknown
	}
	var stateErr *DatabaseStateError
	if errors.As(err, &stateErr) {
		return KindUnexpectedState
	}
	// Before the network checks: the guard's refusal reaches the driver as
	// a failed read of the connection.
	if errors.Is(err, ErrLoginNotEncrypted) {
		return KindLoginNotEncrypted
	}
	if isCertificateNotTrusted(err) {
		return KindCertificateNotTrusted
	}
	best, bestRank := KindUnknown, 0
	for _, e := range SQLErrors(err) {
		if nk, ok := errorNumberKinds[e.Number]; ok && nk.rank > bestRank {
			best, bestRank = nk.kind, nk.rank
		}
	}
	if bestRank > 0 {
		return best
	}
	if isUnreachable(err) {
		return KindUnreachable
	}
	if errors.Is(err, context.Canceled) {
		return KindCanceled
	}
	return KindUnknown
}

// IsKind reports whether Classify(err) == k.
func IsKind(err error, k Kind) bool { return Classify(err) == k }

func isUnreachable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var streamErr mssql.StreamError
	return errors.As(err, &streamErr)
}
