//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"time"

	. "github.com/onsi/gomega"
	"github.com/understudy-dev/understudy/test/e2e/memberapi"
)

// The writer's answers, as test/e2e/memberserver writes them.
type (
	Ack         = memberapi.Ack
	WriterStats = memberapi.WriterStats
	RowCheck    = memberapi.RowCheck
)

// writerGet asks the writer pod through the API server's pod proxy (works from any machine that
// can reach the API server, kind included).
func writerGet(path string, out any) error {
	raw, err := clientset.CoreV1().Pods(sqlNamespace).ProxyGet("http", "writer", writerPort, path, nil).DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("writer %s: %w: %s", path, err, raw)
	}
	return json.Unmarshal(raw, out)
}

func writerStats() WriterStats {
	var s WriterStats
	Expect(writerGet("/stats", &s)).To(Succeed())
	return s
}

// firstAckFrom is the first insert acknowledged by server at or after t (nil if none).
func firstAckFrom(acks []Ack, server string, t time.Time) *Ack {
	for i := range acks {
		if acks[i].Server == server && !acks[i].At.Before(t) {
			return &acks[i]
		}
	}
	return nil
}

func lastAckBefore(acks []Ack, t time.Time) *Ack {
	var last *Ack
	for i := range acks {
		if acks[i].At.Before(t) {
			last = &acks[i]
		}
	}
	return last
}
