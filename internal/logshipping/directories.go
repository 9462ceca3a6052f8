package logshipping

import (
	"context"
	"errors"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// ensureDirectory creates dir through the server (xp_create_subdir).
// Microsoft documents neither that procedure nor the permission it needs,
// so the operator does not depend on it: when the server refuses it for a
// missing permission, the backup goes ahead (the directory may exist,
// created beforehand: docs/sqlserver-login.md), and the refusal comes back
// as denied, to be joined to the backup's error should the backup fail.
// Any other failure is err.
func ensureDirectory(ctx context.Context, c *sqlserver.Client, dir string) (denied, err error) {
	err = c.EnsureDirectory(ctx, dir)
	if err != nil && sqlserver.IsPermissionDenied(err) {
		return err, nil
	}
	return nil, err
}

// withDenied joins denied (ensureDirectory's) to r's error when the backup failed.
func withDenied(r BackupResult, denied error) BackupResult {
	if r.Err != nil && denied != nil {
		r.Err = errors.Join(r.Err, denied)
	}
	return r
}
