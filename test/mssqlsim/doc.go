// Package mssqlsim is a protocol-level SQL Server simulator used by tests,
// benchmarks and the demo of the understudy operator.
//
// It speaks TDS 7.4 (MS-TDS) over real TCP so that the real
// github.com/microsoft/go-mssqldb driver can talk to it, and it implements
// only the T-SQL subset the operator sends (databases, a tiny table store,
// BACKUP/RESTORE with SQL Server's LSN rules, a few catalog views). It is
// test infrastructure only and is never shipped in the operator image: CI is
// verified against this simulator, not against SQL Server. See
// docs/mssqlsim.md for the supported statements, errors and differences.
package mssqlsim
