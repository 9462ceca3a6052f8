package logshipping

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// Target is where one group's backups go: a BackupTarget's path plus the
// group's identity and backup options.
type Target struct {
	// Root is the BackupTarget's path as the SQL Servers see it (absolute).
	Root string
	// LocalRoot is where the operator sees Root on its own file system, or
	// empty when it cannot (only the SQL Servers mount the volume). With it,
	// the catalogue lists the directory; without it, it reads the primary's
	// msdb backup history.
	LocalRoot string
	// Namespace and Group name the FailoverGroup; files go to
	// <Root>/<Namespace>/<Group>/<database>/.
	Namespace, Group string
	// Compression and Checksum are the BackupTarget's options: WITH
	// COMPRESSION and WITH CHECKSUM on backups, WITH CHECKSUM on restores.
	Compression, Checksum bool
}

// Validate checks the paths and names without any I/O.
func (t Target) Validate() error {
	if _, err := sqlserver.BackupDir(t.Root, t.Namespace, t.Group, "db"); err != nil {
		return fmt.Errorf("backup target: %w", err)
	}
	if t.LocalRoot != "" && !filepath.IsAbs(t.LocalRoot) {
		return fmt.Errorf("backup target: local root %q is not absolute", t.LocalRoot)
	}
	return nil
}

// Dir returns the server-side directory of db's backups.
func (t Target) Dir(db string) (string, error) {
	return sqlserver.BackupDir(t.Root, t.Namespace, t.Group, db)
}

// toLocal maps a server path under Root to the operator's file system.
func (t Target) toLocal(serverPath string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(serverPath, path.Clean(t.Root)), "/")
	return filepath.Join(t.LocalRoot, filepath.FromSlash(rel))
}

// backupOptions are the WITH options of backups to this target.
func (t Target) backupOptions() sqlserver.BackupOptions {
	return sqlserver.BackupOptions{Compression: t.Compression, Checksum: t.Checksum}
}

// joinServerPath joins a directory reported by or configured for a server
// with a file name, using backslashes for a Windows-style directory.
func joinServerPath(dir, name string) string {
	sep := "/"
	if strings.Contains(dir, `\`) && !strings.Contains(dir, "/") {
		sep = `\`
	}
	return strings.TrimSuffix(dir, sep) + sep + name
}
