package mssqlsim

import (
	"fmt"
	"strings"
)

// edition is the SQL Server edition an instance runs as: what SERVERPROPERTY('Edition') and
// SERVERPROPERTY('EngineEdition') report and whether BACKUP ... WITH COMPRESSION is allowed.
type edition struct {
	// Name is SERVERPROPERTY('Edition'), e.g. "Express Edition (64-bit)".
	Name string
	// Engine is SERVERPROPERTY('EngineEdition'): 2 Standard (Standard and Web), 3 Enterprise
	// (Enterprise, Developer, Evaluation), 4 Express.
	Engine int
	// Compression is false where Microsoft's edition table lists backup compression as
	// unsupported (Express and Web).
	Compression bool
}

// editions maps the MSSQL_PID values of the SQL Server container image (and the edition names
// themselves) to an edition.
var editions = map[string]edition{
	"developer":      {Name: "Developer Edition (64-bit)", Engine: 3, Compression: true},
	"evaluation":     {Name: "Enterprise Evaluation Edition (64-bit)", Engine: 3, Compression: true},
	"enterprise":     {Name: "Enterprise Edition (64-bit)", Engine: 3, Compression: true},
	"enterprisecore": {Name: "Enterprise Edition: Core-based Licensing (64-bit)", Engine: 3, Compression: true},
	"standard":       {Name: "Standard Edition (64-bit)", Engine: 2, Compression: true},
	"web":            {Name: "Web Edition (64-bit)", Engine: 2, Compression: false},
	"express":        {Name: "Express Edition (64-bit)", Engine: 4, Compression: false},
}

// DefaultEdition is the edition of a simulator started without Options.Edition (MSSQL_PID's
// default in the container image).
const DefaultEdition = "Developer"

// lookupEdition resolves an MSSQL_PID value, case-insensitively.
func lookupEdition(pid string) (edition, error) {
	if pid == "" {
		pid = DefaultEdition
	}
	e, ok := editions[strings.ToLower(pid)]
	if !ok {
		return edition{}, fmt.Errorf("unknown edition %q (want Developer, Evaluation, Enterprise, EnterpriseCore, Standard, Web or Express)", pid)
	}
	return e, nil
}

// errCompressionUnsupported is SQL Server's answer to WITH COMPRESSION on an edition without
// backup compression (followed by 3013 "... is terminating abnormally.").
func errCompressionUnsupported(statement string, e edition) error {
	return sqlErr(1844, 16, "%s WITH COMPRESSION is not supported on %s.", statement, e.Name)
}
