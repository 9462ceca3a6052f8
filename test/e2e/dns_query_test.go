//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
)

// A DNS client just big enough for the DNS scenario: one question over UDP to the authoritative
// server, the response code and the answer records (A, AAAA, CNAME, TXT). Our own few lines rather than
// a new dependency; the stdlib resolver hides the response code and follows CNAMEs elsewhere.

const (
	dnsTypeA     = 1
	dnsTypeCNAME = 5
	dnsTypeTXT   = 16
	dnsTypeAAAA  = 28

	dnsRcodeNoError  = 0
	dnsRcodeNXDomain = 3
)

// dnsRR is one answer record: its type and its data (address, target name or TXT text).
type dnsRR struct {
	Type uint16
	Data string
}

// dnsAnswer is what the server said.
type dnsAnswer struct {
	Rcode   int
	Records []dnsRR
}

// String is the answer in one word or a few: NXDOMAIN, NODATA, "CNAME target.x A 192.0.2.99", "A 10.0.0.1".
func (a dnsAnswer) String() string {
	switch {
	case a.Rcode == dnsRcodeNXDomain:
		return "NXDOMAIN"
	case a.Rcode != dnsRcodeNoError:
		return fmt.Sprintf("RCODE%d", a.Rcode)
	case len(a.Records) == 0:
		return "NODATA"
	}
	parts := make([]string, 0, len(a.Records))
	for _, r := range a.Records {
		parts = append(parts, dnsTypeName(r.Type)+" "+r.Data)
	}
	return strings.Join(parts, " ")
}

// first returns the data of the first record of type t ("" if none).
func (a dnsAnswer) first(t uint16) string {
	for _, r := range a.Records {
		if r.Type == t {
			return r.Data
		}
	}
	return ""
}

// addresses are the A records' addresses, sorted.
func (a dnsAnswer) addresses() []string {
	var out []string
	for _, r := range a.Records {
		if r.Type == dnsTypeA || r.Type == dnsTypeAAAA {
			out = append(out, r.Data)
		}
	}
	sort.Strings(out)
	return out
}

func dnsTypeName(t uint16) string {
	switch t {
	case dnsTypeA:
		return "A"
	case dnsTypeCNAME:
		return "CNAME"
	case dnsTypeTXT:
		return "TXT"
	case dnsTypeAAAA:
		return "AAAA"
	}
	return fmt.Sprintf("TYPE%d", t)
}

// queryDNS asks server (host:port) for name's records of type qtype, without recursion.
func queryDNS(server, name string, qtype uint16, timeout time.Duration) (dnsAnswer, error) {
	var id [2]byte
	_, _ = rand.Read(id[:])
	msg := make([]byte, 12, 64)
	copy(msg, id[:])
	binary.BigEndian.PutUint16(msg[4:], 1) // one question; flags 0: a query, no recursion desired
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if len(label) == 0 || len(label) > 63 {
			return dnsAnswer{}, fmt.Errorf("bad name %q", name)
		}
		msg = append(msg, byte(len(label)))
		msg = append(msg, label...)
	}
	msg = append(msg, 0, byte(qtype>>8), byte(qtype), 0, 1) // class IN

	conn, err := net.DialTimeout("udp", server, timeout)
	if err != nil {
		return dnsAnswer{}, err
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(msg); err != nil {
		return dnsAnswer{}, err
	}
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return dnsAnswer{}, err
		}
		if n >= 12 && buf[0] == id[0] && buf[1] == id[1] {
			return parseDNSResponse(buf[:n])
		}
	}
}

// queryDNSAsAResolver asks as a stub resolver does: a query that gets no answer in time is sent
// again (glibc's default is 2 attempts; this tries 3 of 500 ms), so one UDP datagram lost or late on
// a loaded machine is not taken for a name that does not resolve. Any answer, NXDOMAIN included, is
// final.
func queryDNSAsAResolver(server, name string, qtype uint16) (dnsAnswer, error) {
	var a dnsAnswer
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		a, err = queryDNS(server, name, qtype, 500*time.Millisecond)
		var ne net.Error
		if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
			return a, err
		}
	}
	return a, err
}

func parseDNSResponse(m []byte) (dnsAnswer, error) {
	flags := binary.BigEndian.Uint16(m[2:])
	if flags&0x8000 == 0 {
		return dnsAnswer{}, errors.New("not a response")
	}
	if flags&0x0200 != 0 {
		return dnsAnswer{}, errors.New("truncated response")
	}
	ans := dnsAnswer{Rcode: int(flags & 0xf)}
	qd, an := int(binary.BigEndian.Uint16(m[4:])), int(binary.BigEndian.Uint16(m[6:]))
	off := 12
	for i := 0; i < qd; i++ {
		_, next, err := readDNSName(m, off)
		if err != nil {
			return ans, err
		}
		off = next + 4
	}
	for i := 0; i < an; i++ {
		_, next, err := readDNSName(m, off)
		if err != nil {
			return ans, err
		}
		off = next
		if off+10 > len(m) {
			return ans, errors.New("short record")
		}
		typ := binary.BigEndian.Uint16(m[off:])
		rdlen := int(binary.BigEndian.Uint16(m[off+8:]))
		rdata := off + 10
		if rdata+rdlen > len(m) {
			return ans, errors.New("short rdata")
		}
		var data string
		switch typ {
		case dnsTypeA, dnsTypeAAAA:
			data = net.IP(m[rdata : rdata+rdlen]).String()
		case dnsTypeCNAME:
			data, _, err = readDNSName(m, rdata)
			if err != nil {
				return ans, err
			}
		case dnsTypeTXT:
			var parts []string
			for p := rdata; p < rdata+rdlen; {
				l := int(m[p])
				if p+1+l > rdata+rdlen {
					return ans, errors.New("bad TXT")
				}
				parts = append(parts, string(m[p+1:p+1+l]))
				p += 1 + l
			}
			data = strings.Join(parts, "")
		default:
			data = fmt.Sprintf("%x", m[rdata:rdata+rdlen])
		}
		ans.Records = append(ans.Records, dnsRR{Type: typ, Data: data})
		off = rdata + rdlen
	}
	return ans, nil
}

// readDNSName reads a (possibly compressed) name at off; it returns the name without the final dot
// and the offset after it in the record.
func readDNSName(m []byte, off int) (string, int, error) {
	var labels []string
	end := -1
	for hops := 0; hops < 64; hops++ {
		if off >= len(m) {
			return "", 0, errors.New("name out of range")
		}
		l := int(m[off])
		switch {
		case l == 0:
			if end < 0 {
				end = off + 1
			}
			return strings.Join(labels, "."), end, nil
		case l&0xc0 == 0xc0:
			if off+1 >= len(m) {
				return "", 0, errors.New("bad pointer")
			}
			if end < 0 {
				end = off + 2
			}
			off = int(binary.BigEndian.Uint16(m[off:]) & 0x3fff)
		default:
			if off+1+l > len(m) {
				return "", 0, errors.New("label out of range")
			}
			labels = append(labels, string(m[off+1:off+1+l]))
			off += 1 + l
		}
	}
	return "", 0, errors.New("name too long")
}

// ---------------------------------------------------------------------------------------------------
// A poller: asks the same question every interval and keeps the answers.

type dnsSample struct {
	at     time.Time
	answer dnsAnswer
	err    error
}

func (s dnsSample) String() string {
	if s.err != nil {
		return "error: " + s.err.Error()
	}
	return s.answer.String()
}

type dnsPoller struct {
	mu      sync.Mutex
	samples []dnsSample
	stop    context.CancelFunc
	done    chan struct{}
}

func startDNSPoller(server, name string, qtype uint16, interval time.Duration) *dnsPoller {
	pctx, stop := context.WithCancel(ctx)
	p := &dnsPoller{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer GinkgoRecover()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			a, err := queryDNSAsAResolver(server, name, qtype)
			p.mu.Lock()
			p.samples = append(p.samples, dnsSample{at: time.Now(), answer: a, err: err})
			p.mu.Unlock()
			select {
			case <-pctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

func (p *dnsPoller) Stop() { p.stop(); <-p.done }

// since returns the samples taken at or after t.
func (p *dnsPoller) since(t time.Time) []dnsSample {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []dnsSample
	for _, s := range p.samples {
		if !s.at.Before(t) {
			out = append(out, s)
		}
	}
	return out
}

// firstAfter returns the first sample at or after t for which ok holds (zero time if none).
func (p *dnsPoller) firstAfter(t time.Time, ok func(dnsSample) bool) time.Time {
	for _, s := range p.since(t) {
		if ok(s) {
			return s.at
		}
	}
	return time.Time{}
}

// answers counts the distinct answers seen at or after t, in order of first appearance.
func (p *dnsPoller) answers(t time.Time) []string {
	var out []string
	counts := map[string]int{}
	for _, s := range p.since(t) {
		k := s.String()
		if counts[k] == 0 {
			out = append(out, k)
		}
		counts[k]++
	}
	for i, k := range out {
		out[i] = fmt.Sprintf("%s x%d", k, counts[k])
	}
	return out
}
