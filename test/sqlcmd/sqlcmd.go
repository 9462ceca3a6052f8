// Package sqlcmd runs T-SQL scripts the way `sqlcmd -b -i script.sql` does,
// for the tests and the e2e suite's pods, which have no sqlcmd: scripting
// variables $(NAME) are replaced, the script is cut into batches at GO
// lines, the batches run in order on one connection, and the first error
// stops the script.
//
// Only what the project's scripts use is supported: no :setvar, :r or
// other sqlcmd commands, and no "GO n" repeat count.
package sqlcmd

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
)

// variable is a scripting variable reference, $(NAME).
var variable = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// Expand replaces every $(NAME) of script with lookup(NAME). A variable
// lookup does not know is an error, as with sqlcmd (which also takes
// variables from the environment: os.LookupEnv is a lookup).
func Expand(script string, lookup func(string) (string, bool)) (string, error) {
	var missing []string
	out := variable.ReplaceAllStringFunc(script, func(ref string) string {
		name := variable.FindStringSubmatch(ref)[1]
		v, ok := lookup(name)
		if !ok {
			missing = append(missing, name)
			return ref
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("scripting variables not defined: %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// Batches cuts script at its GO lines (GO alone on a line, any case). Batches
// with nothing but blanks are left out.
func Batches(script string) []string {
	var out, batch []string
	flush := func() {
		if text := strings.Join(batch, "\n"); strings.TrimSpace(text) != "" {
			out = append(out, text)
		}
		batch = nil
	}
	for _, line := range strings.Split(script, "\n") {
		if strings.EqualFold(strings.TrimSpace(line), "GO") {
			flush()
			continue
		}
		batch = append(batch, strings.TrimRight(line, "\r"))
	}
	flush()
	return out
}

// Run expands script and runs its batches in order on conn, stopping at the
// first failure. The error names the batch by its number, not by its text,
// which may hold a password.
func Run(ctx context.Context, conn *sql.Conn, script string, lookup func(string) (string, bool)) error {
	expanded, err := Expand(script, lookup)
	if err != nil {
		return err
	}
	for i, b := range Batches(expanded) {
		if _, err := conn.ExecContext(ctx, b); err != nil {
			return fmt.Errorf("batch %d: %w", i+1, err)
		}
	}
	return nil
}
