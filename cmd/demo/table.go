package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// tableAccept asks the API server for its server-side Table rendering, as kubectl get does.
const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io"

// tables prints `kubectl get` output: with kubectl when it is installed (and works), else by
// fetching the same server-side Table from the API server and printing it the way kubectl does.
type tables struct {
	cfg        *rest.Config
	http       *http.Client
	namespace  string
	kubectl    string // path of kubectl, "" to use the Table API
	kubeconfig string
	n          *narrator
}

func newTables(cfg *rest.Config, namespace, kubectl, kubeconfig string, n *narrator) (*tables, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	return &tables{cfg: cfg, http: hc, namespace: namespace, kubectl: kubectl, kubeconfig: kubeconfig, n: n}, nil
}

// path is the API path of an understudy resource (plural) in the demo's namespace.
func (t *tables) path(resource string) string {
	return fmt.Sprintf("/apis/%s/%s/namespaces/%s/%s", "understudy.dev", "v1alpha1", t.namespace, resource)
}

// Get prints `kubectl get <short> [name]` for an understudy resource.
func (t *tables) Get(ctx context.Context, short, resource string) {
	t.n.Cmd("kubectl get %s", short)
	if t.kubectl != "" {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		out, err := exec.CommandContext(cctx, t.kubectl, "--kubeconfig", t.kubeconfig, "-n", t.namespace, "get", short).CombinedOutput()
		cancel()
		if err == nil {
			t.n.Block(string(out))
			return
		}
		t.n.Say("(kubectl failed: %v: %s; using the API server's Table from now on)", err, strings.TrimSpace(string(out)))
		t.kubectl = ""
	}
	tbl, err := t.fetch(ctx, t.path(resource))
	if err != nil {
		t.n.Say("(could not read the table: %v)", err)
		return
	}
	var buf bytes.Buffer
	printTable(&buf, tbl)
	t.n.Block(buf.String())
}

// fetch reads a server-side Table.
func (t *tables) fetch(ctx context.Context, path string) (*metav1.Table, error) {
	body, err := t.request(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	var tbl metav1.Table
	if err := json.NewDecoder(body).Decode(&tbl); err != nil {
		return nil, fmt.Errorf("decode table: %w", err)
	}
	return &tbl, nil
}

func (t *tables) request(ctx context.Context, path string, query url.Values) (io.ReadCloser, error) {
	u := strings.TrimSuffix(t.cfg.Host, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", tableAccept)
	resp, err := t.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(msg)))
	}
	return resp.Body, nil
}

// printTable prints a Table as kubectl does: upper-case headers, the columns of priority 0,
// aligned by a tab writer with three spaces between columns.
func printTable(w io.Writer, tbl *metav1.Table) {
	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
	var head []string
	for _, c := range tbl.ColumnDefinitions {
		if c.Priority == 0 {
			head = append(head, strings.ToUpper(c.Name))
		}
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range tbl.Rows {
		fmt.Fprintln(tw, strings.Join(rowCells(tbl.ColumnDefinitions, r), "\t"))
	}
	_ = tw.Flush()
}

// rowCells are the printed cells of a row's priority-0 columns (nil prints as nothing).
func rowCells(cols []metav1.TableColumnDefinition, r metav1.TableRow) []string {
	var out []string
	for i, c := range cols {
		if c.Priority != 0 {
			continue
		}
		s := ""
		if i < len(r.Cells) && r.Cells[i] != nil {
			s = fmt.Sprint(r.Cells[i])
		}
		out = append(out, s)
	}
	return out
}

// watchRows runs `kubectl get <resource> <name> -w` against the API server's Table watch and calls
// emit for the header once and for each row that differs from the previous one in something other
// than an age. It returns when ctx ends.
func (t *tables) watchRows(ctx context.Context, resource, name string, emit func(cells []string, header bool)) error {
	q := url.Values{}
	q.Set("watch", "true")
	q.Set("fieldSelector", "metadata.name="+name)
	body, err := t.request(ctx, t.path(resource), q)
	if err != nil {
		return err
	}
	defer body.Close()
	dec := json.NewDecoder(body)
	var cols []metav1.TableColumnDefinition
	var last string
	for {
		var ev struct {
			Type   string       `json:"type"`
			Object metav1.Table `json:"object"`
		}
		if err := dec.Decode(&ev); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watch %s: %w", resource, err)
		}
		if len(ev.Object.ColumnDefinitions) > 0 && cols == nil {
			cols = ev.Object.ColumnDefinitions
			var head []string
			for _, c := range cols {
				if c.Priority == 0 {
					head = append(head, strings.ToUpper(c.Name))
				}
			}
			emit(head, true)
		}
		if cols == nil {
			continue
		}
		for _, r := range ev.Object.Rows {
			cells := rowCells(cols, r)
			key := ""
			for i, c := range visibleColumns(cols) {
				if c.Type != "date" {
					key += cells[i] + "\x00"
				}
			}
			if key == last {
				continue
			}
			last = key
			emit(cells, false)
		}
	}
}

func visibleColumns(cols []metav1.TableColumnDefinition) []metav1.TableColumnDefinition {
	var out []metav1.TableColumnDefinition
	for _, c := range cols {
		if c.Priority == 0 {
			out = append(out, c)
		}
	}
	return out
}

// watchPrinter prints watch rows in fixed-width columns (a tab writer cannot align lines that
// arrive one at a time), each prefixed with the time since a reference moment (the kill, the
// switchover request).
type watchPrinter struct {
	n      *narrator
	t0     time.Time
	widths []int

	mu     sync.Mutex
	header []string
	last   []string
}

func (p *watchPrinter) emit(cells []string, header bool) {
	p.mu.Lock()
	if header {
		p.header = cells
	} else {
		p.last = cells
	}
	p.mu.Unlock()
	if header {
		p.widths = make([]int, len(cells))
		for i, h := range cells {
			p.widths[i] = max(len(h)+3, 8)
			if h == "PHASE" {
				p.widths[i] = len("SwitchingOver") + 3
			}
		}
		p.n.Block(p.line("T", cells))
		return
	}
	p.n.Block(p.line(fmt.Sprintf("%+.2fs", time.Since(p.t0).Seconds()), cells))
}

func (p *watchPrinter) line(t string, cells []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s", t)
	for i, c := range cells {
		if i == len(cells)-1 || i >= len(p.widths) {
			b.WriteString(c)
			continue
		}
		fmt.Fprintf(&b, "%-*s", p.widths[i], c)
	}
	return strings.TrimRight(b.String(), " ")
}

// Cell is the named column (upper case, e.g. "ACTIVE") of the last row printed.
func (p *watchPrinter) Cell(column string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, h := range p.header {
		if h == column && i < len(p.last) {
			return p.last[i]
		}
	}
	return ""
}

// groupWatch is a running `kubectl get fg -w`.
type groupWatch struct {
	*watchPrinter
	cancel context.CancelFunc
	done   chan struct{}
}

// watch prints `kubectl get fg <name> -w` lines, timed from t0, until Stop.
func (t *tables) watch(ctx context.Context, name string, t0 time.Time, note string) *groupWatch {
	t.n.Cmd("kubectl get fg %s -w        # %s", name, note)
	ctx, cancel := context.WithCancel(ctx)
	w := &groupWatch{watchPrinter: &watchPrinter{n: t.n, t0: t0}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		if err := t.watchRows(ctx, "failovergroups", name, w.emit); err != nil {
			t.n.Say("(watch ended: %v)", err)
		}
	}()
	return w
}

// Settle waits (briefly) until the watch has printed a row whose column has the value, so the
// printed history ends with the state the scenario has just confirmed.
func (w *groupWatch) Settle(ctx context.Context, column, value string) {
	_ = waitFor(ctx, 5*time.Second, 20*time.Millisecond, "the watch", func() (bool, error) {
		return w.Cell(column) == value, nil
	})
}

// Stop ends the watch.
func (w *groupWatch) Stop() {
	w.cancel()
	<-w.done
}
