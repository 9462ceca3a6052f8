// Command mutate is a small mutation tester for the pure decision code: it changes one comparison
// or boolean operator at a time in the listed files and runs the package's tests against each
// change. A change the tests do not notice (a survivor) is a rule nobody pins.
//
// Usage:
//
//	go run ./hack/mutate [-run regexp] [-func regexp] [-v] [-min 90] [-timeout 120s] [-maxmem 4096] <pkgdir>:<file.go>[,<file.go>...] ...
//
// The mutations, one at a time (the set is kept small on purpose):
//
//	<  -> <=    <= -> <     >  -> >=    >= -> >
//	== -> !=    != -> ==
//	&& -> ||    || -> &&
//	!x -> x     (the negation removed)
//
// Each mutant is written to a temporary directory and built through `go test -overlay`, which
// replaces the file for the build only: the working tree is never touched, so others may edit it
// meanwhile. The command run is `go test -count=1 -vet=off -overlay <json> [-run regexp] ./<pkgdir>`
// from the current directory (the module root); vet is off so that a mutant is judged by the tests
// alone.
//
// A mutant is killed when that run fails; one that runs longer than -timeout is killed too and
// reported as a timeout. A mutant that loops appending to a slice would eat the machine's memory
// long before any timeout, so every process the tool starts has its address space limited to
// -maxmem MiB (RLIMIT_AS): such a mutant dies of "out of memory" within seconds (killed). One that
// does not compile is reported as "not compiled" and left out of the score. Every survivor is
// printed as
//
//	file:line:col  original -> mutant  (func)
//
// and at the end each file's and the total killed/total. The exit status is 1 when the total score
// is below -min percent (and 2 on a usage error or when the unmutated tests fail).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Mutation is one change to a source file.
type Mutation struct {
	// Pos is where the mutated operator is.
	Pos token.Position
	// Func is the enclosing function ("Type.Method" for methods, "" outside any function).
	Func string
	// Op and NewOp are the operator and its replacement ("!" and "" for a removed negation).
	Op, NewOp string
	// Original and Mutant are the expression before and after, on one line.
	Original, Mutant string

	// The edit: src[start:end] is replaced by repl.
	start, end int
	repl       string
}

// swaps is the operator set; see the package comment.
var swaps = map[token.Token]token.Token{
	token.LSS:  token.LEQ,
	token.LEQ:  token.LSS,
	token.GTR:  token.GEQ,
	token.GEQ:  token.GTR,
	token.EQL:  token.NEQ,
	token.NEQ:  token.EQL,
	token.LAND: token.LOR,
	token.LOR:  token.LAND,
}

// Enumerate lists the mutations of the Go source src (named filename in positions), in source
// order.
func Enumerate(filename string, src []byte) ([]Mutation, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, filename, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	text := func(n ast.Node) string { return string(src[off(n.Pos()):off(n.End())]) }

	var out []Mutation
	var visit func(n ast.Node, fn string)
	visit = func(root ast.Node, fn string) {
		ast.Inspect(root, func(n ast.Node) bool {
			switch e := n.(type) {
			case *ast.FuncDecl:
				if e == root {
					return true
				}
				visit(e, funcName(e))
				return false
			case *ast.BinaryExpr:
				to, ok := swaps[e.Op]
				if !ok {
					return true
				}
				// The operands are parenthesised so that the mutant means exactly the swapped
				// operator over the same operands: swapping || for && inside a || b && c || d as
				// text would regroup it.
				// What lies between the operands (spaces, a line break, comments) is kept, so
				// that every line stays where it was.
				x, y := text(e.X), text(e.Y)
				op := off(e.OpPos)
				before := string(src[off(e.X.End()):op])
				after := string(src[op+len(e.Op.String()) : off(e.Y.Pos())])
				out = append(out, Mutation{
					Pos: fset.Position(e.OpPos), Func: fn, Op: e.Op.String(), NewOp: to.String(),
					Original: oneLine(text(e)),
					Mutant:   oneLine(x + before + to.String() + after + y),
					start:    off(e.Pos()), end: off(e.End()),
					repl: "((" + x + ")" + before + to.String() + after + "(" + y + "))",
				})
			case *ast.UnaryExpr:
				if e.Op != token.NOT {
					return true
				}
				out = append(out, Mutation{
					Pos: fset.Position(e.OpPos), Func: fn, Op: "!", NewOp: "",
					Original: oneLine(text(e)), Mutant: oneLine(text(e.X)),
					start: off(e.OpPos), end: off(e.OpPos) + 1, repl: "",
				})
			}
			return true
		})
	}
	visit(file, "")
	return out, nil
}

// funcName is "Name" or "Type.Name" for a method.
func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	for {
		switch e := t.(type) {
		case *ast.StarExpr:
			t = e.X
			continue
		case *ast.IndexExpr:
			t = e.X
			continue
		case *ast.IndexListExpr:
			t = e.X
			continue
		case *ast.Ident:
			return e.Name + "." + d.Name.Name
		}
		return d.Name.Name
	}
}

var spaces = regexp.MustCompile(`\s+`)

func oneLine(s string) string { return spaces.ReplaceAllString(strings.TrimSpace(s), " ") }

// Apply returns src with m made.
func Apply(src []byte, m Mutation) []byte {
	out := make([]byte, 0, len(src)+len(m.repl))
	out = append(out, src[:m.start]...)
	out = append(out, m.repl...)
	return append(out, src[m.end:]...)
}

// Outcome is what the tests made of a mutant.
type Outcome int

const (
	Survived Outcome = iota
	Killed
	TimedOut
	NotCompiled
)

func (o Outcome) String() string {
	return [...]string{"survived", "killed", "killed (timeout)", "not compiled"}[o]
}

// target is one package directory and the files to mutate in it.
type target struct {
	pkgDir string
	files  []string
}

func parseTarget(arg string) (target, error) {
	dir, list, ok := strings.Cut(arg, ":")
	if !ok || dir == "" || list == "" {
		return target{}, fmt.Errorf("%q: want <pkgdir>:<file.go>[,<file.go>...]", arg)
	}
	t := target{pkgDir: filepath.Clean(dir)}
	for _, f := range strings.Split(list, ",") {
		switch {
		case f == "":
			continue
		case strings.HasSuffix(f, "_test.go"):
			return target{}, fmt.Errorf("%q: %s is a test file", arg, f)
		case !strings.HasSuffix(f, ".go") || strings.ContainsRune(f, '/'):
			return target{}, fmt.Errorf("%q: %s is not a .go file name in %s", arg, f, dir)
		}
		t.files = append(t.files, f)
	}
	if len(t.files) == 0 {
		return target{}, fmt.Errorf("%q: no files", arg)
	}
	return t, nil
}

type runner struct {
	run     string
	timeout time.Duration
	tmp     string
	n       int
}

// goTest runs the package's tests with overlay (nil: none) and says how they went.
func (r *runner) goTest(pkgDir string, overlay map[string]string) (Outcome, string, error) {
	args := []string{"test", "-count=1", "-vet=off"}
	if overlay != nil {
		r.n++
		js, err := json.Marshal(struct{ Replace map[string]string }{overlay})
		if err != nil {
			return 0, "", err
		}
		p := filepath.Join(r.tmp, fmt.Sprintf("overlay-%d.json", r.n))
		if err := os.WriteFile(p, js, 0o600); err != nil {
			return 0, "", err
		}
		args = append(args, "-overlay", p)
	}
	if r.run != "" {
		args = append(args, "-run", r.run)
	}
	args = append(args, "./"+filepath.ToSlash(pkgDir))
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	// go test starts the test binary as a child: on a timeout the whole process group goes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	out := buf.String()
	switch {
	case ctx.Err() != nil:
		return TimedOut, out, nil
	case err == nil:
		return Survived, out, nil
	case strings.Contains(out, "[build failed]") || strings.Contains(out, "[setup failed]"):
		return NotCompiled, out, nil
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return 0, out, err // go itself could not be started
	}
	return Killed, out, nil
}

type tally struct{ total, killed, timedOut, notCompiled int }

func (t tally) scored() int { return t.total - t.notCompiled }

func (t tally) score() float64 {
	if t.scored() == 0 {
		return 100
	}
	return 100 * float64(t.killed+t.timedOut) / float64(t.scored())
}

func (t tally) String() string {
	s := fmt.Sprintf("%d/%d = %.1f %%", t.killed+t.timedOut, t.scored(), t.score())
	var extra []string
	if t.timedOut > 0 {
		extra = append(extra, fmt.Sprintf("%d by timeout", t.timedOut))
	}
	if t.notCompiled > 0 {
		extra = append(extra, fmt.Sprintf("%d not compiled, not scored", t.notCompiled))
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

func (t *tally) add(o Outcome) {
	t.total++
	switch o {
	case Killed:
		t.killed++
	case TimedOut:
		t.timedOut++
	case NotCompiled:
		t.notCompiled++
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mutate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runRE := fs.String("run", "", "run only the tests matching `regexp` (go test -run)")
	funcRE := fs.String("func", "", "mutate only inside functions whose name matches `regexp`")
	verbose := fs.Bool("v", false, "print every mutant and its outcome, not only the survivors")
	minScore := fs.Float64("min", 90, "exit with status 1 when the total score is below this `percentage`")
	timeout := fs.Duration("timeout", 120*time.Second, "per-mutant time limit (a mutant that exceeds it counts as killed)")
	maxMem := fs.Uint64("maxmem", 4096, "address space limit in `MiB` of every go and test process started (RLIMIT_AS; 0: none)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./hack/mutate [flags] <pkgdir>:<file.go>[,<file.go>...] ...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	var funcFilter *regexp.Regexp
	if *funcRE != "" {
		var err error
		if funcFilter, err = regexp.Compile(*funcRE); err != nil {
			fmt.Fprintln(stderr, "mutate: -func:", err)
			return 2
		}
	}
	var targets []target
	for _, a := range fs.Args() {
		t, err := parseTarget(a)
		if err != nil {
			fmt.Fprintln(stderr, "mutate:", err)
			return 2
		}
		targets = append(targets, t)
	}
	if *maxMem > 0 {
		// Inherited by go test, the compiler and the test binary.
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_AS, &lim); err != nil {
			fmt.Fprintln(stderr, "mutate: -maxmem:", err)
			return 2
		}
		if want := *maxMem << 20; want < lim.Cur {
			lim.Cur = want
			if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
				fmt.Fprintln(stderr, "mutate: -maxmem:", err)
				return 2
			}
		}
	}
	tmp, err := os.MkdirTemp("", "mutate-")
	if err != nil {
		fmt.Fprintln(stderr, "mutate:", err)
		return 2
	}
	defer os.RemoveAll(tmp)
	r := &runner{run: *runRE, timeout: *timeout, tmp: tmp}

	start := time.Now()
	var total tally
	type fileResult struct {
		name string
		t    tally
	}
	var results []fileResult
	for _, tg := range targets {
		// The unmutated tests must pass, or every mutant would look killed.
		base := time.Now()
		o, out, err := r.goTest(tg.pkgDir, nil)
		if err != nil || o != Survived {
			fmt.Fprintf(stderr, "mutate: the tests of ./%s do not pass unmutated (%v %v; is -maxmem %d MiB enough?):\n%s", tg.pkgDir, o, err, *maxMem, out)
			return 2
		}
		fmt.Fprintf(stdout, "# ./%s: unmutated tests pass in %s\n", tg.pkgDir, time.Since(base).Round(100*time.Millisecond))
		for _, name := range tg.files {
			path, err := filepath.Abs(filepath.Join(tg.pkgDir, name))
			if err != nil {
				fmt.Fprintln(stderr, "mutate:", err)
				return 2
			}
			src, err := os.ReadFile(path)
			if err != nil {
				fmt.Fprintln(stderr, "mutate:", err)
				return 2
			}
			display := filepath.ToSlash(filepath.Join(tg.pkgDir, name))
			muts, err := Enumerate(display, src)
			if err != nil {
				fmt.Fprintln(stderr, "mutate:", err)
				return 2
			}
			var ft tally
			for i, m := range muts {
				if funcFilter != nil && !funcFilter.MatchString(m.Func) {
					continue
				}
				mutPath := filepath.Join(tmp, fmt.Sprintf("m%d", r.n+1), name)
				if err := os.MkdirAll(filepath.Dir(mutPath), 0o700); err != nil {
					fmt.Fprintln(stderr, "mutate:", err)
					return 2
				}
				if err := os.WriteFile(mutPath, Apply(src, m), 0o600); err != nil {
					fmt.Fprintln(stderr, "mutate:", err)
					return 2
				}
				t0 := time.Now()
				o, out, err := r.goTest(tg.pkgDir, map[string]string{path: mutPath})
				if err != nil {
					fmt.Fprintln(stderr, "mutate:", err)
					return 2
				}
				os.RemoveAll(filepath.Dir(mutPath))
				ft.add(o)
				where := fmt.Sprintf("%s:%d:%d", display, m.Pos.Line, m.Pos.Column)
				fn := m.Func
				if fn == "" {
					fn = "package scope"
				}
				switch {
				case o == Survived:
					fmt.Fprintf(stdout, "%s  %s -> %s  (%s)\n", where, m.Original, m.Mutant, fn)
				case *verbose:
					fmt.Fprintf(stdout, "%s  %s -> %s  (%s)  %s [%d/%d, %s]\n", where, m.Original, m.Mutant, fn, o, i+1, len(muts), time.Since(t0).Round(100*time.Millisecond))
				}
				if o == NotCompiled {
					fmt.Fprintf(stderr, "%s: not compiled:\n%s\n", where, indent(out))
				}
			}
			results = append(results, fileResult{display, ft})
			total.total += ft.total
			total.killed += ft.killed
			total.timedOut += ft.timedOut
			total.notCompiled += ft.notCompiled
		}
	}
	fmt.Fprintln(stdout)
	for _, fr := range results {
		fmt.Fprintf(stdout, "%-40s %s\n", fr.name, fr.t)
	}
	fmt.Fprintf(stdout, "%-40s %s  in %s\n", "total", total, time.Since(start).Round(time.Second))
	if total.score() < *minScore {
		fmt.Fprintf(stdout, "mutation score %.1f %% is below -min %.1f %%\n", total.score(), *minScore)
		return 1
	}
	return 0
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n\t")
}
