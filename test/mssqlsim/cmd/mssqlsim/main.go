// Command mssqlsim runs the SQL Server simulator (test/mssqlsim) for the
// demo and for manual use with any go-mssqldb client. It is test
// infrastructure and is not SQL Server.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/understudy-dev/understudy/test/mssqlsim"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:1433", "TCP listen address")
	dataDir := flag.String("data-dir", "./mssqlsim-data", "data directory (state persists across restarts)")
	saPassword := flag.String("sa-password", mssqlsim.DefaultSAPassword, "password of the sa login")
	instance := flag.String("instance-name", "MSSQLSIM", "instance name (@@SERVERNAME)")
	edition := flag.String("edition", envOr("MSSQL_PID", mssqlsim.DefaultEdition),
		"edition, as the SQL Server image's MSSQL_PID names it (Developer, Evaluation, Enterprise, EnterpriseCore, Standard, Web, Express); default $MSSQL_PID")
	timeZone := flag.String("time-zone", os.Getenv("TZ"),
		"time zone (IANA name) of GETDATE(), msdb's and backup headers' dates, as SQL Server takes it from TZ; default $TZ, else UTC")
	verbose := flag.Bool("v", false, "log connection-level diagnostics")
	flag.Parse()

	opts := mssqlsim.Options{Addr: *addr, DataDir: *dataDir, SAPassword: *saPassword, InstanceName: *instance, Edition: *edition, TimeZone: *timeZone}
	if *verbose {
		opts.Logf = log.Printf
	}
	srv, err := mssqlsim.Start(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log.Printf("mssqlsim %s listening on %s (data dir %s)", *instance, srv.Addr(), *dataDir)
	log.Printf("connect with: sqlserver://sa:<sa-password>@%s?encrypt=disable", srv.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	if err := srv.Close(); err != nil {
		log.Printf("close: %v", err)
		os.Exit(1)
	}
}

// envOr is the environment variable name, or def when it is unset or empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
