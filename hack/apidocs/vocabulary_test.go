package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/failover"
	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/notify"
)

const vocabularyFile = "../../api/v1alpha1/vocabulary.go"

func readTestVocabulary(t *testing.T) *Vocabulary {
	t.Helper()
	v, err := ReadVocabulary(vocabularyFile)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func values(groups []Group) []string {
	var out []string
	for _, g := range groups {
		for _, t := range g.Terms {
			out = append(out, t.Value)
		}
	}
	return out
}

func TestVocabularyTables(t *testing.T) {
	v := readTestVocabulary(t)
	var buf bytes.Buffer
	WriteVocabulary(&buf, v)
	out := buf.String()
	for _, want := range []string{
		"## " + VocabularyHeading + "\n",
		"| Event reason | Type | When |",
		"| `LogChainBroken` | Warning | ",
		"| `ServiceReleased` | Normal or Warning | ",
		"| `FailoverCompleted` | Normal | ",
		"| Condition | Status | Reason | When |",
		"| FailoverGroup `Ready` | True | `Active` | ",
		"| FailoverGroup, BackupTarget, RestoreSchedule `Ready` | False | `InvalidSpec` | ",
		"| FailoverGroup `FailoverReady` | False | `InvalidSpec` | ",
		"| RestoreSchedule `Ready` | False | `LogChainBroken` | ",
		"| Notification event | When |",
		"| `Failback` | A failback",
		"| `LogChainBroken` | A standby",
		"| `InitialElection` | ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the tables lack %q", want)
		}
	}
}

// The docs must say what users see: the values of the constants the code uses.
func TestVocabularyIsWhatTheCodeUses(t *testing.T) {
	v := readTestVocabulary(t)
	// Condition types: every block names one of well_known.go's.
	types := []string{v1alpha1.ConditionReady, v1alpha1.ConditionAvailable, v1alpha1.ConditionDegraded, v1alpha1.ConditionLogShipping,
		v1alpha1.ConditionFailoverRequired, v1alpha1.ConditionFailoverReady, v1alpha1.ConditionSwitchover, v1alpha1.ConditionDNSPublished,
		v1alpha1.ConditionBackupCompression, v1alpha1.ConditionForeignLogBackups, v1alpha1.ConditionTransactionLogGrowing}
	for _, g := range v.Conditions {
		if !slices.Contains(types, g.Condition) {
			t.Errorf("block %q: %q is not a condition type of well_known.go", g.Doc, g.Condition)
		}
	}
	eq := func(what, got, want string) {
		if got != want {
			t.Errorf("%s = %q, the vocabulary says %q", what, got, want)
		}
	}
	// Aliases kept for callers of internal/logshipping (a compile-time link, listed so that they
	// are not pointed at another block's constant).
	eq("logshipping.ReasonForkedDatabase", logshipping.ReasonForkedDatabase, v1alpha1.ReasonRestoreScheduleForkedDatabase)
	eq("logshipping.ReasonOtherDatabase", logshipping.ReasonOtherDatabase, v1alpha1.ReasonRestoreScheduleOtherDatabase)
	eq("logshipping.ReasonChecksumMissing", logshipping.ReasonChecksumMissing, v1alpha1.ReasonRestoreScheduleChecksumMissing)
	// Defined from the vocabulary (a compile-time link), listed so that a new one is not forgotten.
	reasons := []failover.Reason{failover.ReasonInitialElection, failover.ReasonFailover, failover.ReasonSwitchover,
		failover.ReasonFailback, failover.ReasonForced}
	var got []string
	for _, r := range reasons {
		got = append(got, string(r))
	}
	sameSet(t, "failover reasons", got, values(v.FailoverReasons))
	sameSet(t, "notify events", []string{notify.EventFailover, notify.EventSwitchover, notify.EventFailback, notify.EventMemberDown,
		notify.EventMemberUp, notify.EventFailoverRequired, notify.EventFailoverRefused, notify.EventLogChainBroken}, values(v.Notifications))
}

// The webhook events the API accepts are exactly the ones the operator sends.
func TestNotificationEnumIsTheVocabulary(t *testing.T) {
	v := readTestVocabulary(t)
	crd, err := readCRD("../../config/crd/bases/understudy.dev_failovergroups.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var enum []string
	for _, ver := range crd.Spec.Versions {
		events := ver.Schema.OpenAPIV3Schema.Properties["spec"].Properties["notifications"].Properties["webhooks"].Items.Schema.Properties["events"]
		for _, e := range events.Items.Schema.Enum {
			enum = append(enum, strings.Trim(string(e.Raw), `"`))
		}
	}
	sameSet(t, "spec.notifications.webhooks[].events enum", enum, values(v.Notifications))
}

// No Event reason, condition reason or notification event is spelled out in controllers/ or in
// internal/ (internal/failover's Summarize and FailoverReadiness write the FailoverGroup's
// conditions, internal/logshipping the restore reasons): they are the vocabulary's constants.
func TestCodeUsesTheVocabulary(t *testing.T) {
	for _, glob := range []string{"../../controllers/*.go", "../../internal/*/*.go"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			checked++
			for _, lit := range reasonLiterals(t, f) {
				t.Errorf("%s: %q: use the constant of api/v1alpha1/vocabulary.go", lit.pos, lit.value)
			}
		}
		if checked == 0 {
			t.Fatalf("no files match %s", glob)
		}
	}
}

type literal struct {
	pos   token.Position
	value string
}

// reasonLiterals finds the string literals of a file used as an Event reason (of an event(...) or
// Eventf(...) call), a condition reason (Reason: in a metav1.Condition, failover.Condition,
// failover.Readiness or logshipping.DatabaseRestoreResult, or assigned to x.Reason) or a
// notification event (Event: in a notify.Event, or assigned to ev).
func reasonLiterals(t *testing.T, path string) []literal {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []literal
	add := func(e ast.Expr) {
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, _ := strconv.Unquote(lit.Value)
			out = append(out, literal{fset.Position(lit.Pos()), s})
		}
	}
	typeName := func(e ast.Expr) string {
		switch x := e.(type) {
		case *ast.Ident:
			return x.Name
		case *ast.SelectorExpr:
			if pkg, ok := x.X.(*ast.Ident); ok {
				return pkg.Name + "." + x.Sel.Name
			}
		}
		return ""
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr:
			if sel, ok := x.Fun.(*ast.SelectorExpr); ok {
				switch { // event(obj, type, reason, ...), Eventf(obj, related, type, reason, ...)
				case sel.Sel.Name == "event" && len(x.Args) >= 3:
					add(x.Args[2])
				case sel.Sel.Name == "Eventf" && len(x.Args) >= 4:
					add(x.Args[3])
				}
			}
		case *ast.CompositeLit:
			field := map[string]string{"metav1.Condition": "Reason", "Condition": "Reason", "failover.Condition": "Reason",
				"Readiness": "Reason", "failover.Readiness": "Reason", "DatabaseRestoreResult": "Reason",
				"logshipping.DatabaseRestoreResult": "Reason", "notify.Event": "Event"}[typeName(x.Type)]
			for _, el := range x.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok && field != "" {
					if k, ok := kv.Key.(*ast.Ident); ok && k.Name == field {
						add(kv.Value)
					}
				}
			}
		case *ast.AssignStmt:
			if len(x.Lhs) != len(x.Rhs) {
				return true
			}
			for i, l := range x.Lhs {
				switch lhs := l.(type) {
				case *ast.SelectorExpr:
					if lhs.Sel.Name == "Reason" {
						add(x.Rhs[i])
					}
				case *ast.Ident:
					if lhs.Name == "ev" {
						add(x.Rhs[i])
					}
				}
			}
		}
		return true
	})
	return out
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	got, want = slices.Clone(got), slices.Clone(want)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: %v, the vocabulary has %v", what, got, want)
	}
}

func TestReadVocabularyRefusesWhatItCannotDocument(t *testing.T) {
	for name, src := range map[string]string{
		"no comment":                          "const (\n\tEventReasonX = \"X\"\n)\n",
		"no type":                             "const (\n\t// it happens.\n\tEventReasonX = \"X\"\n)\n",
		"no status":                           "// Reasons of the FailoverGroup Ready condition.\nconst (\n\t// it happens.\n\tReasonX = \"X\"\n)\n",
		"no condition in the block's comment": "// Reasons of Ready.\nconst (\n\t// True: it happens.\n\tReasonX = \"X\"\n)\n",
		"unknown prefix":                      "const (\n\t// it happens.\n\tSomething = \"X\"\n)\n",
		"not a literal":                       "const (\n\t// it happens.\n\tNotifyX = \"X\" + \"Y\"\n)\n",
		"mixed block":                         "const (\n\t// it happens.\n\tNotifyX = \"X\"\n\t// it happens.\n\tFailoverReasonY = \"Y\"\n)\n",
		"empty when":                          "const (\n\t// Normal:\n\tEventReasonX = \"X\"\n)\n",
		"shared comment":                      "const (\n\t// it happens.\n\tNotifyX, NotifyY = \"X\", \"Y\"\n)\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "vocabulary.go")
			if err := os.WriteFile(path, []byte("package v1alpha1\n\n"+src), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadVocabulary(path); err == nil {
				t.Fatalf("accepted:\n%s", src)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "vocabulary.go")
	ok := "package v1alpha1\n\n// Reasons of the FailoverGroup and BackupTarget Ready condition. More.\nconst (\n\t// True: it happens.\n\tReasonX = \"X\"\n)\n"
	if err := os.WriteFile(path, []byte(ok), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := ReadVocabulary(path)
	if err != nil {
		t.Fatal(err)
	}
	g := v.Conditions[0]
	if !slices.Equal(g.Kinds, []string{"FailoverGroup", "BackupTarget"}) || g.Condition != "Ready" || g.Terms[0].Qualifier != "True" || g.Terms[0].When != "it happens." {
		t.Fatalf("parsed %+v", g)
	}
}
