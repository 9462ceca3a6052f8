package logshipping

import (
	"context"
	"fmt"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// Compression is whether a server's backups are compressed: what the target asks for and what the
// server's edition allows (Express and Web cannot compress backups).
type Compression struct {
	// Requested is the target's Compression option.
	Requested bool
	// Server describes the instance; empty when compression was not requested (it is not asked).
	Server sqlserver.ServerInfo
}

// Applied reports whether backups are taken WITH COMPRESSION.
func (c Compression) Applied() bool { return c.Requested && c.Server.CanCompressBackups() }

// CompressionOn says whether backups on c are compressed. The edition is read only when the target
// asks for compression, so a target without it costs no query.
func (s *Shipper) CompressionOn(ctx context.Context, c *sqlserver.Client) (Compression, error) {
	comp := Compression{Requested: s.Target.Compression}
	if !comp.Requested {
		return comp, nil
	}
	info, err := c.ServerInfo(ctx)
	if err != nil {
		return comp, fmt.Errorf("edition of %s (for backup compression): %w", c.Address(), err)
	}
	comp.Server = info
	return comp, nil
}

// backupOptionsOn are the target's backup options for c: COMPRESSION is left out where the
// edition cannot compress, instead of failing every backup with error 1844.
func (s *Shipper) backupOptionsOn(ctx context.Context, c *sqlserver.Client) (sqlserver.BackupOptions, error) {
	opts := s.Target.backupOptions()
	comp, err := s.CompressionOn(ctx, c)
	if err != nil {
		return opts, err
	}
	opts.Compression = comp.Applied()
	return opts, nil
}
