-- The operator's user in one database of the group: BACKUP DATABASE and BACKUP LOG need
-- db_backupoperator (or db_owner, or sysadmin) in the database itself.
--
-- Run it on the PRIMARY only, as a sysadmin or the database's owner, once per database, after
-- sqlserver-operator-login.sql (variables: UNDERSTUDY_LOGIN as there, UNDERSTUDY_DATABASE the
-- database):
--   sqlcmd -S <primary> -U sa -b -i sqlserver-operator-database.sql
-- The standbys get this user from the backups they restore, bound to the login by its SID: that
-- is why the login must have the same SID on every member. A standby's database cannot be changed
-- (it is RESTORING or read-only STANDBY); a database added to the group later needs this first.
--
-- The script is idempotent.

USE [$(UNDERSTUDY_DATABASE)];
GO

IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = N'$(UNDERSTUDY_LOGIN)')
    CREATE USER [$(UNDERSTUDY_LOGIN)] FOR LOGIN [$(UNDERSTUDY_LOGIN)];
-- BACKUP DATABASE / BACKUP LOG, the tail-log backup of a switchover and the salvage backup.
ALTER ROLE [db_backupoperator] ADD MEMBER [$(UNDERSTUDY_LOGIN)];
GO

USE [master];
GO
