// Package logshipping implements SQL Server transaction-log shipping and the
// SQL side of a failover on top of internal/sqlserver, with plain values in
// and plain results out: no Kubernetes API calls. The controllers call it
// once per reconcile or tick and turn the results into status and Events.
//
// Every operation is idempotent and resumable: it reads the databases'
// states first (sqlserver.Client.Databases, RestoreState) and does only
// what is still missing, so calling it again after a crash, a timeout or
// a lost leadership continues where the previous call stopped.
//
//   - Primary side (Shipper): EnsureReady, RunBackups (full backup when none
//     exists or a standby needs one, log backups when due, see BackupDue),
//     Catalogue (the backup files of the target with their LSNs, headers
//     read once through RESTORE HEADERONLY and cached), Prune and
//     DeleteFiles (retention).
//   - Standby side: RestoreStandby (seed, apply logs in LSN order, STANDBY or
//     NORECOVERY, delay, readers, chain-break detection and reseed),
//     CopyLogins.
//   - Failover: Promote, CandidatePosition, Shipper.PlannedSwitchover (zero
//     data loss, the old primary continues as a standby), Shipper.Salvage and
//     Reseed (an old primary that comes back after an unplanned failover).
//     The health check of SQL Server members lives in the controllers, which
//     know each member's role.
//
// Time is always a parameter (now), never read from the clock, except where
// SQL Server itself stamps backups and restores. Results carry per-database
// outcomes; see each function for what its returned error means. Passwords
// never appear in errors (sqlserver.Client redacts them).
//
// docs/logshipping-engine.md describes the design and the data-loss
// figures measured by the tests.
package logshipping
