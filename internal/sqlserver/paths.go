package sqlserver

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// backupTimeLayout is the UTC timestamp at the start of a backup file name.
const backupTimeLayout = "20060102T150405Z"

// salvageDir is the directory, next to the databases' directories, that
// holds backups taken from a former primary after a failover (its log tail
// and anything written after the last shipped backup), kept apart from the
// live chain.
const salvageDir = "salvage"

// BackupFileName returns "<UTC yyyymmddThhmmssZ>_<firstLSN>.bak" (full) or
// ".trn" (log), e.g. "20260102T030405Z_37000000001600001.trn". Names sort by
// time, and the LSN keeps two backups of the same second apart.
func BackupFileName(t time.Time, firstLSN LSN, kind BackupType) (string, error) {
	if kind != BackupFull && kind != BackupLog {
		return "", fmt.Errorf("backup file name: unsupported backup type %s", kind)
	}
	if t.IsZero() {
		return "", fmt.Errorf("backup file name: zero time")
	}
	return t.UTC().Format(backupTimeLayout) + "_" + firstLSN.String() + kind.Extension(), nil
}

// BackupPath returns <root>/<namespace>/<group>/<database>/<file name> (see
// BackupFileName). root is the backup target's path as the SQL Servers see
// it; the other parts must be single, non-empty path elements.
func BackupPath(root, namespace, group, database string, t time.Time, firstLSN LSN, kind BackupType) (string, error) {
	dir, err := BackupDir(root, namespace, group, database)
	if err != nil {
		return "", err
	}
	name, err := BackupFileName(t, firstLSN, kind)
	if err != nil {
		return "", err
	}
	return path.Join(dir, name), nil
}

// BackupDir returns <root>/<namespace>/<group>/<database>, the directory of
// a database's backups.
func BackupDir(root, namespace, group, database string) (string, error) {
	if err := validatePathParts(root, namespace, group, database); err != nil {
		return "", fmt.Errorf("backup directory: %w", err)
	}
	return path.Join(root, namespace, group, database), nil
}

// SalvagePath returns <root>/<namespace>/<group>/salvage/<database>/<file
// name>: where backups of a demoted primary's divergent data go.
func SalvagePath(root, namespace, group, database string, t time.Time, firstLSN LSN, kind BackupType) (string, error) {
	dir, err := SalvageDir(root, namespace, group, database)
	if err != nil {
		return "", err
	}
	name, err := BackupFileName(t, firstLSN, kind)
	if err != nil {
		return "", err
	}
	return path.Join(dir, name), nil
}

// SalvageDir returns <root>/<namespace>/<group>/salvage/<database>.
func SalvageDir(root, namespace, group, database string) (string, error) {
	if err := validatePathParts(root, namespace, group, database); err != nil {
		return "", fmt.Errorf("salvage directory: %w", err)
	}
	return path.Join(root, namespace, group, salvageDir, database), nil
}

// ParseBackupFileName is the inverse of BackupFileName: it reads the time,
// first LSN and type from a file name (or path).
func ParseBackupFileName(name string) (time.Time, LSN, BackupType, error) {
	base := path.Base(name)
	var kind BackupType
	switch {
	case strings.HasSuffix(base, BackupFull.Extension()):
		kind = BackupFull
	case strings.HasSuffix(base, BackupLog.Extension()):
		kind = BackupLog
	default:
		return time.Time{}, LSN{}, BackupOther, fmt.Errorf("backup file name %q: extension is not .bak or .trn", base)
	}
	stem := strings.TrimSuffix(base, kind.Extension())
	ts, lsnText, ok := strings.Cut(stem, "_")
	if !ok {
		return time.Time{}, LSN{}, BackupOther, fmt.Errorf("backup file name %q: want <time>_<lsn>%s", base, kind.Extension())
	}
	t, err := time.Parse(backupTimeLayout, ts)
	if err != nil {
		return time.Time{}, LSN{}, BackupOther, fmt.Errorf("backup file name %q: time: %w", base, err)
	}
	lsn, err := ParseLSN(lsnText)
	if err != nil {
		return time.Time{}, LSN{}, BackupOther, fmt.Errorf("backup file name %q: %w", base, err)
	}
	return t, lsn, kind, nil
}

// validatePathParts checks root (an absolute path) and the single path
// elements below it, so that no part can climb out of its directory.
func validatePathParts(root string, elems ...string) error {
	if !strings.HasPrefix(root, "/") {
		return fmt.Errorf("root %q is not an absolute path", root)
	}
	if strings.ContainsAny(root, "\x00;'") || strings.Contains("/"+root+"/", "/../") {
		return fmt.Errorf("root %q: invalid path", root)
	}
	for _, e := range elems {
		switch {
		case e == "", e == ".", e == "..":
			return fmt.Errorf("path element %q is not allowed", e)
		case strings.ContainsAny(e, "/\\\x00;'"):
			return fmt.Errorf("path element %q contains a separator or forbidden character", e)
		}
		for _, r := range e {
			if r < 0x20 || r == 0x7f {
				return fmt.Errorf("path element %q contains a control character", e)
			}
		}
	}
	return nil
}
