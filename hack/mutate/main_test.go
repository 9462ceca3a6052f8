package main

import (
	"fmt"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

func TestEnumerate(t *testing.T) {
	tests := []struct {
		name string
		src  string
		// want is one "line:col func: original -> mutant" per mutation, in source order.
		want []string
	}{
		{name: "every comparison operator swaps with its neighbour",
			src: `package p
func f(a, b int) []bool {
	return []bool{a < b, a <= b, a > b, a >= b, a == b, a != b}
}`,
			want: []string{
				"3:18 f: a < b -> a <= b",
				"3:25 f: a <= b -> a < b",
				"3:33 f: a > b -> a >= b",
				"3:40 f: a >= b -> a > b",
				"3:48 f: a == b -> a != b",
				"3:56 f: a != b -> a == b",
			}},
		{name: "boolean operators swap and a negation is removed",
			src: `package p
func g(a, b bool) bool { return !a && b || a }`,
			want: []string{
				"2:41 g: !a && b || a -> !a && b && a",
				"2:36 g: !a && b -> !a || b",
				"2:33 g: !a -> a",
			}},
		{name: "arithmetic, unary minus, assignments and channel ops are left alone",
			src: `package p
func h(a int, c chan int) int { a += 1; x := -a * 2; c <- x; return <-c + x%3 }`,
			want: nil},
		{name: "methods are named by receiver type, closures by their function, package scope by none",
			src: `package p
type T[E any] struct{ n int }
var ready = 1 > 2
func (t *T[E]) Less(o T[E]) bool { return t.n < o.n }
func (T[E]) Check() func(int) bool { return func(i int) bool { return i != 0 } }`,
			want: []string{
				"3:15 : 1 > 2 -> 1 >= 2",
				"4:47 T.Less: t.n < o.n -> t.n <= o.n",
				"5:73 T.Check: i != 0 -> i == 0",
			}},
		{name: "operators in conditions of if, for and switch cases",
			src: `package p
func k(xs []int) int {
	for i := 0; i < len(xs); i++ {
		if !(xs[i] == 0) {
			switch {
			case xs[i] >= 10:
				return i
			}
		}
	}
	return -1
}`,
			want: []string{
				"3:16 k: i < len(xs) -> i <= len(xs)",
				"4:6 k: !(xs[i] == 0) -> (xs[i] == 0)",
				"4:14 k: xs[i] == 0 -> xs[i] != 0",
				"6:15 k: xs[i] >= 10 -> xs[i] > 10",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			muts, err := Enumerate("p.go", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range muts {
				got = append(got, fmt.Sprintf("%d:%d %s: %s -> %s", m.Pos.Line, m.Pos.Column, m.Func, m.Original, m.Mutant))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("mutations:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}

func TestApplyKeepsGroupingAndLines(t *testing.T) {
	src := `package p

func f(a, b, c, d bool) bool {
	return a || b && c ||
		d
}
`
	muts, err := Enumerate("p.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		// The outer ||: as text "a || b && c && d" would regroup as a || (b && c && d).
		"a || b && c || d": "((a || b && c) && (d))",
		"a || b && c":      "((a) && (b && c))",
		"b && c":           "((b) || (c))",
	}
	if len(muts) != len(want) {
		t.Fatalf("%d mutations, want %d", len(muts), len(want))
	}
	for _, m := range muts {
		out := string(Apply([]byte(src), m))
		w, ok := want[m.Original]
		if !ok {
			t.Fatalf("unexpected mutation of %q", m.Original)
		}
		if !strings.Contains(oneLine(out), w) {
			t.Errorf("mutant of %q:\n%s\nwant it to contain %s", m.Original, out, w)
		}
		if strings.Count(out, "\n") != strings.Count(src, "\n") {
			t.Errorf("mutant of %q moved lines:\n%s", m.Original, out)
		}
		if _, err := parser.ParseFile(token.NewFileSet(), "p.go", out, 0); err != nil {
			t.Errorf("mutant of %q does not parse: %v", m.Original, err)
		}
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		arg       string
		wantDir   string
		wantFiles []string
		wantErr   bool
	}{
		{arg: "internal/failover:decide.go,candidates.go", wantDir: "internal/failover", wantFiles: []string{"decide.go", "candidates.go"}},
		{arg: "./internal/sqlserver/:prune.go", wantDir: "internal/sqlserver", wantFiles: []string{"prune.go"}},
		{arg: "internal/failover", wantErr: true},
		{arg: "internal/failover:", wantErr: true},
		{arg: "internal/failover:decide_test.go", wantErr: true},
		{arg: "internal:failover/decide.go", wantErr: true},
		{arg: "internal/failover:README.md", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			got, err := parseTarget(tt.arg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseTarget(%q) error %v, want error %v", tt.arg, err, tt.wantErr)
			}
			if err == nil && (got.pkgDir != tt.wantDir || strings.Join(got.files, ",") != strings.Join(tt.wantFiles, ",")) {
				t.Fatalf("parseTarget(%q) = %+v", tt.arg, got)
			}
		})
	}
}

func TestTally(t *testing.T) {
	var tl tally
	for _, o := range []Outcome{Killed, Killed, TimedOut, Survived, NotCompiled} {
		tl.add(o)
	}
	if got, want := tl.String(), "3/4 = 75.0 % (1 by timeout, 1 not compiled, not scored)"; got != want {
		t.Fatalf("tally %q, want %q", got, want)
	}
}
