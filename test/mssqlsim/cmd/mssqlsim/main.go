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
	var tlsOpts mssqlsim.TLSOptions
	flag.StringVar(&tlsOpts.CertFile, "tls-cert", "", "PEM certificate (with chain), as mssql-conf network.tlscert; empty: a generated self-signed one, as SQL Server does")
	flag.StringVar(&tlsOpts.KeyFile, "tls-key", "", "PEM private key of -tls-cert, as mssql-conf network.tlskey")
	flag.BoolVar(&tlsOpts.ForceEncryption, "force-encryption", false, "require encryption of the whole session, as mssql-conf network.forceencryption=1")
	flag.BoolVar(&tlsOpts.ForceStrict, "force-strict", false, "accept TDS 8 (strict, TLS first) connections only")
	flag.BoolVar(&tlsOpts.Disabled, "no-tls", false, "answer ENCRYPT_NOT_SUP (no SQL Server does; for testing clients only)")
	flag.Parse()

	opts := mssqlsim.Options{Addr: *addr, DataDir: *dataDir, SAPassword: *saPassword, InstanceName: *instance, Edition: *edition, TimeZone: *timeZone, TLS: tlsOpts}
	if *verbose {
		opts.Logf = log.Printf
	}
	srv, err := mssqlsim.Start(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log.Printf("mssqlsim %s listening on %s (data dir %s)", *instance, srv.Addr(), *dataDir)
	switch {
	case tlsOpts.Disabled:
		log.Printf("TLS disabled; connect with: sqlserver://sa:<sa-password>@%s?encrypt=disable", srv.Addr())
	case tlsOpts.CertFile == "":
		log.Printf("TLS with a generated self-signed certificate (%s); connect with: sqlserver://sa:<sa-password>@%s?encrypt=true&trustservercertificate=true (lab only)",
			srv.Certificate().Subject, srv.Addr())
	default:
		log.Printf("TLS with %s; connect with: sqlserver://sa:<sa-password>@<a name in the certificate>:%d?encrypt=true&certificate=<CA .pem>", tlsOpts.CertFile, srv.Port())
	}
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
