package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// VocabularyHeading is the docs/api.md heading of the tables written from api/v1alpha1/vocabulary.go.
const VocabularyHeading = "Events, condition reasons and notifications (generated from api/v1alpha1/vocabulary.go)"

// Term is one constant of the vocabulary.
type Term struct {
	Name  string // Go name, e.g. EventReasonFenced
	Value string // e.g. "Fenced"
	// Qualifier is what the comment starts with: the Event type ("Normal", "Warning", "Normal or
	// Warning") of an Event reason, the status ("True", "False", "Unknown") of a condition reason;
	// empty for the others.
	Qualifier string
	When      string // the rest of the comment, on one line
}

// Group is one const block of the vocabulary.
type Group struct {
	Doc   string // the block's comment, on one line
	Terms []Term
	// Kinds and Condition are set for a block of condition reasons ("Reasons of the <kinds>
	// <condition> condition."): the resources' kinds and the condition type.
	Kinds     []string
	Condition string
}

// Vocabulary is api/v1alpha1/vocabulary.go, parsed.
type Vocabulary struct {
	Events, Conditions, FailoverReasons, Notifications []Group
}

var (
	eventQualifiers     = []string{"Normal or Warning", "Normal", "Warning"}
	conditionQualifiers = []string{"True", "False", "Unknown"}
	conditionGroupDoc   = regexp.MustCompile(`^Reasons of the ([A-Z]\w*(?:(?:, | and )[A-Z]\w*)*) ([A-Z]\w*) condition\b`)
)

// ReadVocabulary parses the vocabulary file with go/parser and go/doc. Every exported constant must
// be a string with a comment in the file's fixed form (see the file's own comment); anything else is
// an error, so that an undocumented reason cannot reach the docs silently.
func ReadVocabulary(path string) (*Vocabulary, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	pkg, err := doc.NewFromFiles(fset, []*ast.File{f}, "vocabulary")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	consts := append([]*doc.Value(nil), pkg.Consts...)
	sort.Slice(consts, func(i, j int) bool { return consts[i].Decl.Pos() < consts[j].Decl.Pos() })
	v := &Vocabulary{}
	seen := map[string]bool{}
	for _, c := range consts {
		var kind string
		g := Group{Doc: oneLine(c.Doc)}
		for _, spec := range c.Decl.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if !id.IsExported() {
					continue
				}
				where := fset.Position(id.Pos()).String()
				t, k, err := term(id.Name, vs, i)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", where, err)
				}
				if kind != "" && k != kind {
					return nil, fmt.Errorf("%s: %s is not of its block's kind (%s)", where, id.Name, kind)
				}
				kind = k
				if seen[t.Name] {
					return nil, fmt.Errorf("%s: %s declared twice", where, t.Name)
				}
				seen[t.Name] = true
				g.Terms = append(g.Terms, t)
			}
		}
		if len(g.Terms) == 0 {
			continue
		}
		switch kind {
		case "event":
			v.Events = append(v.Events, g)
		case "condition":
			m := conditionGroupDoc.FindStringSubmatch(g.Doc)
			if m == nil {
				return nil, fmt.Errorf("%s: the comment of %s's block must start %q", fset.Position(c.Decl.Pos()), g.Terms[0].Name,
					"Reasons of the <kinds> <condition type> condition")
			}
			g.Kinds = strings.FieldsFunc(strings.ReplaceAll(m[1], " and ", ","), func(r rune) bool { return r == ',' || r == ' ' })
			g.Condition = m[2]
			v.Conditions = append(v.Conditions, g)
		case "failover":
			v.FailoverReasons = append(v.FailoverReasons, g)
		case "notify":
			v.Notifications = append(v.Notifications, g)
		}
	}
	return v, nil
}

// term reads the i-th name of vs: its kind by its prefix, its value and its comment.
func term(name string, vs *ast.ValueSpec, i int) (Term, string, error) {
	t := Term{Name: name}
	var kind string
	var qualifiers []string
	switch {
	case strings.HasPrefix(name, "EventReason"):
		kind, qualifiers = "event", eventQualifiers
	case strings.HasPrefix(name, "FailoverReason"):
		kind = "failover"
	case strings.HasPrefix(name, "Reason"):
		kind, qualifiers = "condition", conditionQualifiers
	case strings.HasPrefix(name, "Notify"):
		kind = "notify"
	default:
		return t, "", fmt.Errorf("%s: a vocabulary constant is named EventReason..., Reason..., FailoverReason... or Notify...", name)
	}
	if i >= len(vs.Values) {
		return t, "", fmt.Errorf("%s has no value of its own", name)
	}
	lit, ok := vs.Values[i].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return t, "", fmt.Errorf("%s: the value must be a string literal", name)
	}
	t.Value, _ = strconv.Unquote(lit.Value)
	if vs.Doc == nil || len(vs.Names) > 1 {
		return t, "", fmt.Errorf("%s needs a comment of its own", name)
	}
	t.When = oneLine(vs.Doc.Text())
	if qualifiers != nil {
		for _, q := range qualifiers {
			if rest, ok := strings.CutPrefix(t.When, q+": "); ok {
				t.Qualifier, t.When = q, rest
				break
			}
		}
		if t.Qualifier == "" {
			return t, "", fmt.Errorf("%s: the comment must start with one of %s, then a colon", name, strings.Join(qualifiers, ", "))
		}
	}
	if t.When == "" {
		return t, "", fmt.Errorf("%s: the comment says nothing", name)
	}
	return t, kind, nil
}

// WriteVocabulary writes the tables under VocabularyHeading.
func WriteVocabulary(buf *bytes.Buffer, v *Vocabulary) {
	fmt.Fprintf(buf, "\n## %s\n\n", VocabularyHeading)
	buf.WriteString("The operator's whole vocabulary, from the constants of `api/v1alpha1/vocabulary.go` and their comments. " +
		"The values never change: alerts and scripts may match them.\n")

	buf.WriteString("\n### Events\n\n`kubectl events --for fg/<name>` (events.k8s.io) on the FailoverGroup.\n")
	for _, g := range v.Events {
		fmt.Fprintf(buf, "\n%s\n\n| Event reason | Type | When |\n|---|---|---|\n", g.Doc)
		for _, t := range g.Terms {
			fmt.Fprintf(buf, "| `%s` | %s | %s |\n", t.Value, t.Qualifier, cell(t.When))
		}
	}

	buf.WriteString("\n### Condition reasons\n\n`status.conditions[].reason`; every condition carries `observedGeneration`.\n\n" +
		"| Condition | Status | Reason | When |\n|---|---|---|---|\n")
	var notes []string
	for _, g := range v.Conditions {
		cond := fmt.Sprintf("%s `%s`", strings.Join(g.Kinds, ", "), g.Condition)
		for _, t := range g.Terms {
			fmt.Fprintf(buf, "| %s | %s | `%s` | %s |\n", cond, t.Qualifier, t.Value, cell(t.When))
		}
		if len(g.Doc) > len(conditionGroupDoc.FindString(g.Doc))+len(".") { // more than the bare "Reasons of ... condition."
			notes = append(notes, g.Doc)
		}
	}
	if len(notes) > 0 {
		buf.WriteString("\n")
		for _, n := range notes {
			fmt.Fprintf(buf, "- %s\n", n)
		}
	}

	buf.WriteString("\n### Failover reasons\n")
	for _, g := range v.FailoverReasons {
		fmt.Fprintf(buf, "\n%s\n\n| Reason | When |\n|---|---|\n", g.Doc)
		for _, t := range g.Terms {
			fmt.Fprintf(buf, "| `%s` | %s |\n", t.Value, cell(t.When))
		}
	}

	buf.WriteString("\n### Webhook notifications\n")
	for _, g := range v.Notifications {
		fmt.Fprintf(buf, "\n%s\n\n| Notification event | When |\n|---|---|\n", g.Doc)
		for _, t := range g.Terms {
			fmt.Fprintf(buf, "| `%s` | %s |\n", t.Value, cell(t.When))
		}
	}
}
