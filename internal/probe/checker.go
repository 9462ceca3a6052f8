package probe

import (
	"context"
	"fmt"
	"maps"
)

// Checker runs one health check. A nil error means healthy.
//
// Implementations must be safe for concurrent use, must return promptly once
// ctx is done, and must not put credentials in the errors they return (the
// error text is logged and stored in State.LastError).
type Checker interface {
	Check(ctx context.Context, t Target) error
}

// CheckerFunc adapts a function to a Checker.
type CheckerFunc func(ctx context.Context, t Target) error

// Check calls f.
func (f CheckerFunc) Check(ctx context.Context, t Target) error {
	return f(ctx, t)
}

// Registry maps a Target's Kind to the Checker for it. It is itself a Checker
// that dispatches on Kind. Fill it before handing it to NewRunner (which keeps
// a copy); it is not safe to modify concurrently with Check.
type Registry map[Kind]Checker

// NewRegistry returns a Registry with the built-in TCP and HTTP checkers.
// Further kinds are added by assignment, e.g. reg[KindSQLServer] = c.
func NewRegistry() Registry {
	return Registry{
		KindTCP:  TCPChecker{},
		KindHTTP: NewHTTPChecker(),
	}
}

// Supports reports whether a Checker is registered for kind.
func (r Registry) Supports(kind Kind) bool {
	_, ok := r[kind]
	return ok
}

// Check runs the Checker registered for t.Kind.
func (r Registry) Check(ctx context.Context, t Target) error {
	checker, ok := r[t.Kind]
	if !ok {
		return fmt.Errorf("probe %s: no checker registered for kind %q", t.Address, t.Kind)
	}
	return checker.Check(ctx, t)
}

func (r Registry) clone() Registry {
	return maps.Clone(r)
}
