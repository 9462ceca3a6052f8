-- The operator's SQL Server login, with the grants its statements need and no more
-- (docs/sqlserver-login.md says which statement needs which grant).
--
-- Run it on EVERY member of the group, as a sysadmin, with the same three values everywhere
-- (sqlcmd scripting variables; sqlcmd also takes them from environment variables of these names):
--   UNDERSTUDY_LOGIN     the login name, e.g. understudy (the Secret's `username`)
--   UNDERSTUDY_PASSWORD  its password (the Secret's `password`; no single quote in it)
--   UNDERSTUDY_SID       its SID, chosen ONCE for all members: 0x and 32 hex digits,
--                        e.g. "0x$(openssl rand -hex 16)" (the Secret's `sid`)
--   sqlcmd -S <member> -U sa -b -i sqlserver-operator-login.sql
-- Then run sqlserver-operator-database.sql on the primary, once per database of the group.
-- config/samples/sqlserver-operator-login-job.yaml does both from Kubernetes.
--
-- The SID must be the same on every member: the database user made for the login on the primary
-- (sqlserver-operator-database.sql) travels to the standbys inside the backups and is found by SID,
-- so with another SID it is orphaned there and every backup fails after a failover. If the login
-- already exists on a member with another SID, drop it there and run this again (check with
-- SELECT name, sid FROM sys.server_principals WHERE name = N'<login>' on every member).
--
-- The script is idempotent: running it again changes nothing.

USE [master];
GO

IF NOT EXISTS (SELECT 1 FROM sys.server_principals WHERE name = N'$(UNDERSTUDY_LOGIN)')
    CREATE LOGIN [$(UNDERSTUDY_LOGIN)] WITH PASSWORD = N'$(UNDERSTUDY_PASSWORD)', SID = $(UNDERSTUDY_SID), CHECK_POLICY = ON, CHECK_EXPIRATION = OFF;
GO

-- RESTORE DATABASE / RESTORE LOG / RESTORE ... WITH RECOVERY (seed, log restores, promotion),
-- RESTORE HEADERONLY / FILELISTONLY (CREATE DATABASE permission), ALTER DATABASE ... SET
-- RECOVERY FULL / SINGLE_USER / MULTI_USER, and the rows of sys.master_files.
ALTER SERVER ROLE [dbcreator] ADD MEMBER [$(UNDERSTUDY_LOGIN)];
-- sys.dm_exec_sessions (every session, not only its own) and sys.dm_tran_locks.
GRANT VIEW SERVER STATE TO [$(UNDERSTUDY_LOGIN)];
-- KILL of the sessions that hold a database a restore, a tail-log backup or a promotion needs.
GRANT ALTER ANY CONNECTION TO [$(UNDERSTUDY_LOGIN)];
-- Login copy: every login visible in sys.sql_logins, CREATE LOGIN and ALTER LOGIN on the standbys.
GRANT ALTER ANY LOGIN TO [$(UNDERSTUDY_LOGIN)];
-- Login copy: sys.sql_logins.password_hash (SQL Server 2022 and later; on SQL Server 2019 and
-- before, only CONTROL SERVER shows it, which this script does not grant).
GRANT VIEW ANY CRYPTOGRAPHICALLY SECURED DEFINITION TO [$(UNDERSTUDY_LOGIN)];
GO

-- EXEC master.sys.xp_create_subdir (backup directories). Undocumented procedure: granted so the
-- operator does not depend on whether SQL Server requires it; the operator also goes ahead when
-- it is refused and the directory exists.
IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = N'$(UNDERSTUDY_LOGIN)')
    CREATE USER [$(UNDERSTUDY_LOGIN)] FOR LOGIN [$(UNDERSTUDY_LOGIN)];
GRANT EXECUTE ON sys.xp_create_subdir TO [$(UNDERSTUDY_LOGIN)];
GO

-- Backup and restore history (backup catalogue, redo point of STANDBY databases, other tools'
-- log backups). Microsoft does not say what public may read in msdb: granted explicitly.
USE [msdb];
GO
IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = N'$(UNDERSTUDY_LOGIN)')
    CREATE USER [$(UNDERSTUDY_LOGIN)] FOR LOGIN [$(UNDERSTUDY_LOGIN)];
GRANT SELECT ON dbo.backupset TO [$(UNDERSTUDY_LOGIN)];
GRANT SELECT ON dbo.backupmediafamily TO [$(UNDERSTUDY_LOGIN)];
GRANT SELECT ON dbo.restorehistory TO [$(UNDERSTUDY_LOGIN)];
-- msdb history cleanup after prune (EXEC msdb.dbo.sp_delete_backuphistory). Broad: the procedure
-- deletes the backup and restore history of EVERY database of the instance older than the date it
-- is given (never the backup files). Microsoft: the grant "might be overridden during a SQL Server
-- upgrade": run this script again after an upgrade. Leave it out to keep the history yourself.
GRANT EXECUTE ON dbo.sp_delete_backuphistory TO [$(UNDERSTUDY_LOGIN)];
GO

USE [master];
GO
