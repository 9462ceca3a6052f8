package sqlserver

import (
	"context"
	"fmt"
)

// EnsureDirectory creates dir and its missing parents on the server's file
// system with master.sys.xp_create_subdir (BACKUP does not create
// directories; the operator's pod usually cannot reach the server's
// volume). An existing directory is fine. dir must be absolute; failures
// are KindBackupDevice.
func (c *Client) EnsureDirectory(ctx context.Context, dir string) error {
	if err := validateDevicePath(dir); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	if err := c.exec(ctx, "EXEC master.sys.xp_create_subdir @p1", dir); err != nil {
		return fmt.Errorf("create directory %s on %s: %w", dir, c.Address(), permissionDenied(err, "EXEC master.sys.xp_create_subdir", needCreateSubdir))
	}
	return nil
}
