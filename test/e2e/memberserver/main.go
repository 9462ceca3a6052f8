// Command memberserver is the workload of the end-to-end tests (test/e2e), packed into the image
// understudy-e2e-member:e2e by hack/local-cluster.sh (the SQL scenario's members run the simulator
// image understudy-e2e-mssqlsim:e2e). It has five modes:
//
//	memberserver serve      HTTP on :8080; every request is answered with "<MEMBER_NAME> <POD_NAME>\n",
//	                        so a client going through the routed Service can tell which member it
//	                        reached. The operator's TCP health check connects to the same port.
//	memberserver webhook    HTTP on :8080; POST /hook records a webhook delivery and checks its
//	                        X-Understudy-Signature (v1=HMAC-SHA256 of "<timestamp>.<delivery>.<body>"
//	                        keyed with $WEBHOOK_SECRET, timestamp within 5 minutes, computed here
//	                        independently of the operator's code, see docs/webhooks.md); GET /deliveries
//	                        returns every recorded delivery as JSON.
//	memberserver sqlinit    creates database $SQL_DATABASE (default Sales) and dbo.Orders on the
//	                        server at $SQL_ADDR, once, and exits (see sql.go for the variables).
//	memberserver sqlscript  runs the T-SQL scripts $SQL_SCRIPTS on the server at $SQL_ADDR as sqlcmd -b
//	                        would, variables from the environment (sqlscript.go), and exits.
//	memberserver writer     the SQL scenario's application: inserts a row every $WRITE_PACE (20ms)
//	                        through the Service $SQL_SERVICE with go-mssqldb and reconnects after any
//	                        error; GET /stats lists every acknowledged insert (id, time, server) and
//	                        GET /check the acknowledged rows missing from the database it reaches now.
//
// The listen address can be changed with $LISTEN (default ":8080").
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/understudy-dev/understudy/test/e2e/memberapi"
)

// Delivery is one webhook request as received (memberapi is shared with the e2e suite).
type Delivery = memberapi.Delivery

func main() {
	mode := "serve"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	addr := envOr("LISTEN", ":8080")
	var h http.Handler
	switch mode {
	case "sqlinit":
		if err := runSQLInit(context.Background()); err != nil {
			log.Fatal(err)
		}
		return
	case "sqlscript":
		if err := runSQLScript(context.Background()); err != nil {
			log.Fatal(err)
		}
		return
	case "writer":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		if err := runWriter(ctx, addr); err != nil {
			log.Fatal(err)
		}
		return
	case "serve":
		h = serveHandler(envOr("MEMBER_NAME", "unknown"), envOr("POD_NAME", "unknown"))
	case "webhook":
		h = webhookHandler([]byte(os.Getenv("WEBHOOK_SECRET")))
	default:
		log.Fatalf("unknown mode %q (want serve, webhook, sqlinit, sqlscript or writer)", mode)
	}
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Printf("memberserver %s listening on %s", mode, addr)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func serveHandler(member, pod string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Connection", "close")
		fmt.Fprintf(w, "%s %s\n", member, pod)
	})
}

func webhookHandler(secret []byte) http.Handler {
	var mu sync.Mutex
	var got []Delivery
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hook", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sig := r.Header.Get("X-Understudy-Signature")
		d := Delivery{
			ReceivedAt:     time.Now().UTC(),
			EventHeader:    r.Header.Get("X-Understudy-Event"),
			DeliveryID:     r.Header.Get("X-Understudy-Delivery"),
			Signature:      sig,
			SignatureValid: validSignature(body, secret, sig, r.Header.Get("X-Understudy-Timestamp"), r.Header.Get("X-Understudy-Delivery")),
		}
		if json.Valid(body) {
			d.Body = body
		} else {
			d.Body, _ = json.Marshal(string(body))
		}
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
		log.Printf("delivery %s event=%s signatureValid=%t body=%s", d.DeliveryID, d.EventHeader, d.SignatureValid, body)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /deliveries", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(append([]Delivery{}, got...))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return mux
}

func validSignature(body, secret []byte, header, timestamp, delivery string) bool {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if len(secret) == 0 || err != nil || delivery == "" || strings.Contains(delivery, ".") {
		return false
	}
	if d := time.Since(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s.%s.", timestamp, delivery)
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Split(header, ",") {
		hexSum, ok := strings.CutPrefix(strings.TrimSpace(sig), "v1=")
		if got, err := hex.DecodeString(hexSum); ok && err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}
