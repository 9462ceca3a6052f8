package sqlserver

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxIdentifierLength is the length limit of a SQL Server identifier
// (sysname is nvarchar(128)).
const maxIdentifierLength = 128

// QuoteName validates a T-SQL identifier and returns it bracket-quoted with
// every ']' doubled, like SQL Server's QUOTENAME(): "a]b" becomes "[a]]b]".
// The identifier must be non-empty valid UTF-8 of at most 128 characters
// without NUL or other control characters.
func QuoteName(identifier string) (string, error) {
	if err := validateIdentifier(identifier); err != nil {
		return "", err
	}
	return "[" + strings.ReplaceAll(identifier, "]", "]]") + "]", nil
}

func validateIdentifier(identifier string) error {
	if identifier == "" {
		return fmt.Errorf("invalid identifier: empty")
	}
	if !utf8.ValidString(identifier) {
		return fmt.Errorf("invalid identifier %q: not valid UTF-8", identifier)
	}
	if n := utf8.RuneCountInString(identifier); n > maxIdentifierLength {
		return fmt.Errorf("invalid identifier %q: %d characters, at most %d allowed", identifier, n, maxIdentifierLength)
	}
	for _, r := range identifier {
		if unicode.IsControl(r) {
			return fmt.Errorf("invalid identifier %q: contains control character %U", identifier, r)
		}
	}
	return nil
}

// databaseNamePattern is the rule the FailoverGroup API applies to database
// names (docs/api.md).
var databaseNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_@$#-]*$`)

// systemDatabases cannot be shipped or failed over.
var systemDatabases = map[string]bool{
	"master": true, "model": true, "msdb": true, "tempdb": true,
	"distribution": true, "mssqlsystemresource": true,
}

// ValidateDatabaseName checks a user database name against the API rule
// ^[A-Za-z_][A-Za-z0-9_@$#-]*$, at most 128 characters, and rejects the
// system databases (master, model, msdb, tempdb, distribution,
// mssqlsystemresource; case-insensitive).
func ValidateDatabaseName(name string) error {
	if name == "" {
		return fmt.Errorf("invalid database name: empty")
	}
	if len(name) > maxIdentifierLength {
		return fmt.Errorf("invalid database name %q: %d characters, at most %d allowed", name, len(name), maxIdentifierLength)
	}
	if !databaseNamePattern.MatchString(name) {
		return fmt.Errorf("invalid database name %q: must match %s", name, databaseNamePattern)
	}
	if systemDatabases[strings.ToLower(name)] {
		return fmt.Errorf("invalid database name %q: system databases cannot be managed", name)
	}
	return nil
}

// quoteDatabase validates name as a user database and quotes it.
func quoteDatabase(name string) (string, error) {
	if err := ValidateDatabaseName(name); err != nil {
		return "", err
	}
	return QuoteName(name)
}
