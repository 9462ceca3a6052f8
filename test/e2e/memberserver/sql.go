package main

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	_ "github.com/microsoft/go-mssqldb" // the real SQL Server driver, as an application would use it
)

// sqlTarget is where the SQL modes connect, from the environment:
//
//	SQL_ADDR       host:port, used as given; or
//	SQL_SERVICE    a Service name in the pod's namespace: its ClusterIP and port come from the
//	               variables the kubelet injects (<NAME>_SERVICE_HOST/_PORT), else its DNS name
//	SQL_PORT       port with SQL_SERVICE when the variables are absent (default 1433)
//	SQL_USER, SQL_PASSWORD, SQL_DATABASE (default sa, -, master)
//	SQL_CA_FILE    a PEM (.pem) CA file: encrypt the connection and verify the server certificate
//	               against it and SQL_TLS_NAME (the name in the certificate); unset: no encryption
func sqlTarget() (addr string, err error) {
	if a := os.Getenv("SQL_ADDR"); a != "" {
		return a, nil
	}
	svc := os.Getenv("SQL_SERVICE")
	if svc == "" {
		return "", fmt.Errorf("set SQL_ADDR or SQL_SERVICE")
	}
	prefix := strings.ToUpper(strings.ReplaceAll(svc, "-", "_"))
	if host := os.Getenv(prefix + "_SERVICE_HOST"); host != "" {
		return net.JoinHostPort(host, envOr(prefix+"_SERVICE_PORT", "1433")), nil
	}
	return net.JoinHostPort(svc, envOr("SQL_PORT", "1433")), nil
}

// openSQL opens a pool to database at addr with the login from the environment, encrypted and
// verified when SQL_CA_FILE is set.
func openSQL(addr, database string) (*sql.DB, error) {
	q := url.Values{}
	q.Set("database", database)
	q.Set("encrypt", "disable")
	if ca := os.Getenv("SQL_CA_FILE"); ca != "" {
		q.Set("encrypt", "true")
		q.Set("certificate", ca)
		q.Set("hostnameincertificate", os.Getenv("SQL_TLS_NAME"))
	}
	q.Set("dial timeout", "2")
	q.Set("connection timeout", "5")
	u := &url.URL{Scheme: "sqlserver", User: url.UserPassword(envOr("SQL_USER", "sa"), os.Getenv("SQL_PASSWORD")), Host: addr, RawQuery: q.Encode()}
	return sql.Open("sqlserver", u.String())
}

// runSQLInit creates the application's database and table on the first primary, once: it waits
// for the server and leaves an existing database alone (a restarted init pod is harmless).
func runSQLInit(ctx context.Context) error {
	addr, err := sqlTarget()
	if err != nil {
		return err
	}
	database := envOr("SQL_DATABASE", "Sales")
	master, err := openSQL(addr, "master")
	if err != nil {
		return err
	}
	defer func() { _ = master.Close() }()
	var exists int
	deadline := time.Now().Add(2 * time.Minute)
	for {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = master.QueryRowContext(qctx, "SELECT COUNT(*) FROM sys.databases WHERE name = @p1", database).Scan(&exists)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("reach %s: %w", addr, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if exists > 0 {
		fmt.Printf("database %s already exists on %s\n", database, addr)
		return nil
	}
	if _, err := master.ExecContext(ctx, "CREATE DATABASE "+quoteName(database)); err != nil {
		return fmt.Errorf("create database %s: %w", database, err)
	}
	db, err := openSQL(addr, database)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	if _, err := db.ExecContext(ctx, "CREATE TABLE dbo.Orders (id INT NOT NULL, note NVARCHAR(100))"); err != nil {
		return fmt.Errorf("create table dbo.Orders: %w", err)
	}
	fmt.Printf("created database %s and table dbo.Orders on %s\n", database, addr)
	return nil
}

// quoteName quotes a T-SQL identifier: brackets, with ] doubled.
func quoteName(s string) string { return "[" + strings.ReplaceAll(s, "]", "]]") + "]" }
