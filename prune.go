package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/understudy-dev/understudy/internal/logshipping"
)

// runPrune is the `understudy prune` subcommand that the operator's prune Jobs run with the backup
// volume mounted at --root:
//
//	understudy prune --root DIR --modified-before TIME --expire DBDIR=TIME [--expire ...]
//
// lists each database directory DBDIR itself and deletes the backup files named before its TIME and
// last modified before --modified-before (RFC 3339 times); the operator computes those bounds from
// its retention rules, so the arguments stay a few per database however long the history is.
//
//	understudy prune --root DIR [--] FILE...
//
// deletes the listed backup files (the form of earlier operator versions, still accepted). Either way
// a path that is not a backup file under DIR is refused, and salvage files are never touched.
func runPrune(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("prune", flag.ContinueOnError)
	fs.SetOutput(out)
	root := fs.String("root", "", "Directory the backup volume is mounted at (the BackupTarget's path).")
	modified := fs.String("modified-before", "", "With --expire: keep files modified at or after this RFC 3339 time.")
	var expiries []logshipping.Expiry
	fs.Func("expire", "DBDIR=TIME: delete the backup files in database directory DBDIR named before TIME (RFC 3339); repeatable.", func(v string) error {
		e, err := logshipping.ParseExpiry(v)
		if err != nil {
			return err
		}
		expiries = append(expiries, e)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *root == "" {
		return errors.New("prune: --root is required")
	}
	var errs []error
	if len(expiries) > 0 {
		bound, err := time.Parse(time.RFC3339, *modified)
		if err != nil {
			return fmt.Errorf("prune: --modified-before %q: want an RFC 3339 time", *modified)
		}
		deleted, err := logshipping.ExpireFiles(*root, expiries, bound)
		fmt.Fprintf(out, "prune: deleted %d expired backup files in %d database directories under %s\n", len(deleted), len(expiries), *root)
		errs = append(errs, err)
	} else if *modified != "" {
		return errors.New("prune: --modified-before applies to --expire")
	}
	if len(fs.Args()) > 0 || len(expiries) == 0 {
		deleted, err := logshipping.DeleteFiles(*root, fs.Args())
		fmt.Fprintf(out, "prune: deleted %d of %d backup files under %s\n", len(deleted), len(fs.Args()), *root)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	return nil
}
