package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/understudy-dev/understudy/internal/logshipping"
)

// runPrune is the `understudy prune --root DIR [--] FILE...` subcommand that the operator's prune
// Jobs run with the backup volume mounted at DIR: it deletes the listed backup files, refusing any
// path that is not a backup file under DIR.
func runPrune(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("prune", flag.ContinueOnError)
	root := fs.String("root", "", "Directory the backup volume is mounted at (the BackupTarget's path).")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *root == "" {
		return errors.New("prune: --root is required")
	}
	deleted, err := logshipping.DeleteFiles(*root, fs.Args())
	fmt.Fprintf(out, "prune: deleted %d of %d backup files under %s\n", len(deleted), len(fs.Args()), *root)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	return nil
}
