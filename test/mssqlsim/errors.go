package mssqlsim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// SQLError is a SQL Server error as sent in an ERROR token: number, state,
// class (severity) and message text (MS-TDS 2.2.7.10).
type SQLError struct {
	Number  int32
	State   byte
	Class   byte
	Message string
}

func (e *SQLError) Error() string {
	return fmt.Sprintf("mssql: error %d (state %d, class %d): %s", e.Number, e.State, e.Class, e.Message)
}

// SQLErrors is an ordered list of errors sent for one failed statement,
// e.g. the cause of a failed BACKUP followed by 3013.
type SQLErrors []*SQLError

func (es SQLErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

func sqlErr(number int32, class byte, format string, args ...any) *SQLError {
	return &SQLError{Number: number, State: 1, Class: class, Message: fmt.Sprintf(format, args...)}
}

// asSQLErrors flattens err into the list of ERROR tokens to send. Errors
// that are not SQL errors are internal failures and are reported as 50000
// with the wrapped context so that they are never silent.
func asSQLErrors(err error) SQLErrors {
	var many SQLErrors
	if errors.As(err, &many) {
		return many
	}
	var one *SQLError
	if errors.As(err, &one) {
		return SQLErrors{one}
	}
	return SQLErrors{sqlErr(50000, 16, "mssqlsim internal error: %v", err)}
}

// terminating returns cause followed by 3013 "<op> is terminating
// abnormally.", which is how SQL Server reports failed BACKUP and RESTORE
// statements.
func terminating(op string, cause error) error {
	list := asSQLErrors(cause)
	return append(list, sqlErr(3013, 16, "%s is terminating abnormally.", op))
}

// Errors used by the simulator, with SQL Server's numbers and texts.
func errNotSupported(text string) error {
	return sqlErr(102, 15, "not supported by mssqlsim: %s", strings.TrimSpace(text))
}

func errSyntax(near, detail string) error {
	return sqlErr(102, 15, "Incorrect syntax near '%s'. not supported by mssqlsim: %s", near, detail)
}

func errProcNotFound(name string) error {
	return sqlErr(2812, 16, "Could not find stored procedure '%s'. not supported by mssqlsim", name)
}

func errDBNotExist(name string) error {
	return sqlErr(911, 16, "Database '%s' does not exist. Make sure that the name is entered correctly.", name)
}

func errDBRestoring(name string) error {
	return sqlErr(927, 14, "Database '%s' cannot be opened. It is in the middle of a restore.", name)
}

func errDBOffline(name string) error {
	return sqlErr(942, 14, "Database '%s' cannot be opened because it is offline.", name)
}

func errDBSingleUser(name string) error {
	return sqlErr(924, 14, "Database '%s' is already open and can only have one user at a time.", name)
}

func errDBExists(name string) error {
	return sqlErr(1801, 16, "Database '%s' already exists. Choose a different database name.", name)
}

func errReadOnlyDB(name string) error {
	return sqlErr(3906, 16, "Failed to update database \"%s\" because the database is read-only.", name)
}

func errInvalidObject(name string) error {
	return sqlErr(208, 16, "Invalid object name '%s'.", name)
}

func errInvalidColumn(name string) error {
	return sqlErr(207, 16, "Invalid column name '%s'.", name)
}

func errObjectExists(name string) error {
	return sqlErr(2714, 16, "There is already an object named '%s' in the database.", name)
}

func errMustDeclare(name string) error {
	return sqlErr(137, 15, "Must declare the scalar variable \"%s\".", name)
}

func errConversion(err error) error {
	return sqlErr(245, 16, "%s", upperFirst(err.Error()))
}

func errNullInsert(col, table string) error {
	return sqlErr(515, 16, "Cannot insert the value NULL into column '%s', table '%s'; column does not allow nulls. INSERT fails.", col, table)
}

func errDuplicateKey(table, key string) error {
	return sqlErr(2627, 14, "Violation of PRIMARY KEY constraint 'PK_%s'. Cannot insert duplicate key in object 'dbo.%s'. The duplicate key value is (%s).", table, table, key)
}

func errLoginFailed(user string) error {
	return sqlErr(18456, 14, "Login failed for user '%s'.", user)
}

func errCannotOpenLoginDB(name string) error {
	return sqlErr(4060, 11, "Cannot open database \"%s\" requested by the login. The login failed.", name)
}

func errExclusiveAccess() error {
	return sqlErr(3101, 16, "Exclusive access could not be obtained because the database is in use.")
}

func errInUseBySession(name string) error {
	return sqlErr(3102, 16, "RESTORE cannot process database '%s' because it is in use by this session. It is recommended that the master database be used when performing this operation.", name)
}

func errDropInUse(name string) error {
	return sqlErr(3702, 16, "Cannot drop database \"%s\" because it is currently in use.", name)
}

func errAlterLock(name string) error {
	return sqlErr(5061, 16, "ALTER DATABASE failed because a lock could not be placed on database '%s'. Try again later.", name)
}

func errInTransaction() error {
	return sqlErr(3021, 16, "Cannot perform a backup or restore operation within a transaction.")
}

func errCannotOpenDevice(path string, osErr error) error {
	return sqlErr(3201, 16, "Cannot open backup device '%s'. Operating system error %s.", path, osErrText(osErr))
}

func errWriteDevice(path string, osErr error) error {
	return sqlErr(3202, 16, "Write on \"%s\" failed: %s", path, osErrText(osErr))
}

func errNoCurrentBackup() error {
	return sqlErr(4214, 16, "BACKUP LOG cannot be performed because there is no current database backup.")
}

func errSimpleRecovery() error {
	return sqlErr(4208, 16, "The statement BACKUP LOG is not allowed while the recovery model is SIMPLE. Use BACKUP DATABASE or change the recovery model using ALTER DATABASE.")
}

func errLogTooRecent(first, last, redo LSN) error {
	return sqlErr(4305, 16, "The log in this backup set begins at LSN %s, which is too recent to apply to the database. An earlier log backup that includes LSN %s can be restored.", first, redo)
}

func errLogTooEarly(last LSN) error {
	return sqlErr(4326, 16, "The log in this backup set terminates at LSN %s, which is too early to apply to the database. A more recent log backup that includes LSN %s can be restored.", last, last)
}

func errNotRestoring() error {
	return sqlErr(3117, 16, "The log or differential backup cannot be restored because no files are ready to rollforward.")
}

func errBackupOtherDB(name string) error {
	return sqlErr(3154, 16, "The backup set holds a backup of a database other than the existing '%s' database.", name)
}

func errInconsistentRecoveryPath() error {
	return sqlErr(4330, 16, "This backup set cannot be applied because it is on a recovery path that is inconsistent with the database. The recovery path is the sequence of data and log backups that have brought the database to a particular recovery point. Find a compatible backup to restore, or restore the rest of the database to match a recovery point within this backup set, which will restore the database to a different point in time. For more information about recovery paths, see SQL Server Books Online.")
}

func errNoChecksums() error {
	return sqlErr(3187, 16, "RESTORE WITH CHECKSUM cannot be specified because the backup set does not contain checksum information.")
}

func errTailNotBackedUp(name string) error {
	return sqlErr(3159, 16, "The tail of the log for the database \"%s\" has not been backed up. Use BACKUP LOG WITH NORECOVERY to backup the log if it contains work you do not want to lose. Use the WITH REPLACE or WITH STOPAT clause of the RESTORE statement to just overwrite the contents of the log.", name)
}

func errStandbyFileMissing(db, path string, osErr error) error {
	return sqlErr(3441, 17, "During startup of warm standby database '%s', its standby file ('%s') was inaccessible to the RESTORE statement. The operating system error was '%s'. Diagnose the operating system error, correct the problem, and retry startup.", db, path, osErrText(osErr))
}

func errLogicalFileNotInDB(logical, db string) error {
	return sqlErr(3234, 16, "Logical file '%s' is not part of database '%s'. Use RESTORE FILELISTONLY to list the logical file names.", logical, db)
}

func errDirectoryLookup(path string) error {
	return sqlErr(5133, 16, "Directory lookup for the file \"%s\" failed with the operating system error 2(The system cannot find the file specified.).", path)
}

func errBackupSetNotFound(file int, path string) error {
	return sqlErr(3206, 16, "No entry in sysdevices for backup device '%s' (file %d). Update sysdevices and rerun statement.", path, file)
}

func errMediaFamilyInvalid(path string, cause error) error {
	return sqlErr(3241, 16, "The media family on device '%s' is incorrectly formed. SQL Server cannot process this media family. (%v)", path, cause)
}

func errChecksum(path string) error {
	return sqlErr(3183, 16, "RESTORE detected an error on page (0:0) in database as read from the backup set on device '%s'.", path)
}

func errWrongBackupKind(kind string) error {
	return sqlErr(3135, 16, "The backup set in file '%s' was created by BACKUP %s and cannot be used for this restore operation.", kind, kind)
}

func errKillSelf() error {
	return sqlErr(6104, 16, "Cannot use KILL to kill your own process.")
}

func errKillNotFound(spid int64) error {
	return sqlErr(6106, 16, "Process ID %d is not an active process ID.", spid)
}

func errLoginExists(name string) error {
	return sqlErr(15025, 16, "The server principal '%s' already exists.", name)
}

func errLoginNotFound(name string) error {
	return sqlErr(15151, 16, "Cannot drop the login '%s', because it does not exist or you do not have permission.", name)
}

func errNoTransaction(stmt string) error {
	return sqlErr(3902, 16, "The %s request has no corresponding BEGIN TRANSACTION.", stmt)
}

func errURLNotSupported() error {
	return sqlErr(3201, 16, "BACKUP/RESTORE TO URL is not supported by this simulator (mssqlsim); use TO DISK.")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// osErrText renders an operating-system error as SQL Server does in 3201, 3202 and 3441: the
// Windows error code (which SQL Server on Linux reports too) and its text. Access denied is 5,
// a missing file 2, a missing directory (or a file where a directory should be) 3, a full disk
// 112; anything else keeps 5 with the system's own text.
func osErrText(err error) string {
	switch {
	case err == nil:
		return "2(The system cannot find the file specified.)"
	case errors.Is(err, fs.ErrPermission):
		return "5(Access is denied.)"
	case errors.Is(err, syscall.ENOTDIR):
		return "3(The system cannot find the path specified.)"
	case errors.Is(err, fs.ErrNotExist):
		var pe *fs.PathError
		if errors.As(err, &pe) {
			if _, statErr := os.Stat(filepath.Dir(pe.Path)); statErr != nil {
				return "3(The system cannot find the path specified.)"
			}
		}
		return "2(The system cannot find the file specified.)"
	case errors.Is(err, syscall.ENOSPC):
		return "112(There is not enough space on the disk.)"
	}
	return fmt.Sprintf("5(%v)", err)
}
