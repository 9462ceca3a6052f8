// Package sqlserver is the SQL Server engine of the operator: it drives
// transaction-log shipping (full and log backups on the primary, restores on
// the standbys) and the SQL side of a failover (tail-log backup, RESTORE WITH
// RECOVERY) through github.com/microsoft/go-mssqldb.
//
// The package has two halves:
//
//   - Client (client.go and the files next to it) talks to one instance. Every
//     statement runs under a context timeout, identifiers are validated and
//     quoted with QuoteName, and values (paths, names in WHERE clauses) are
//     sent as parameters. BACKUP and RESTORE never run inside a transaction.
//     Passwords never appear in errors or String() output.
//   - Pure planning functions (PlanLogRestores, LatestFull, SelectPrunable,
//     BackupPath, EstimateDataLoss) that decide what to restore, what to
//     prune and where files go, without any I/O.
//
// Errors from the server are classified with Classify, which looks at every
// entry of mssql.Error.All: a failed BACKUP or RESTORE reports its cause first
// and 3013 ("terminating abnormally") last.
//
// LSNs are numeric(25,0) values on SQL Server; LSN keeps them as math/big
// integers and renders them as decimal strings, never int64.
//
// The package is tested end to end against the TDS simulator in
// test/mssqlsim (see docs/mssqlsim.md), not against a real SQL Server.
package sqlserver
