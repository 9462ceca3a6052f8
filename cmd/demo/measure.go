package main

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// measured is a duration measured in the background, or why it could not be.
type measured struct {
	d   time.Duration
	err error
}

// timeSelector measures, in the background, the time from t0 until the Service selects member.
// The returned function waits for the result.
func (d *demo) timeSelector(ctx context.Context, t0 time.Time, member string) func() measured {
	done := make(chan measured, 1)
	go func() {
		err := waitFor(ctx, 60*time.Second, 10*time.Millisecond, "the Service to select "+member, func() (bool, error) {
			return maps.Equal(d.selector(ctx), selectorFor(member)), nil
		})
		done <- measured{time.Since(t0), err}
	}()
	return func() measured { return <-done }
}

// timeWritable measures, in the background, the time from t0 until an INSERT succeeds on m (the
// row, id -1, is not one of the writer's).
func (d *demo) timeWritable(ctx context.Context, t0 time.Time, m *sqlMember) func() measured {
	done := make(chan measured, 1)
	go func() {
		db, err := m.observer()
		if err != nil {
			done <- measured{err: err}
			return
		}
		defer db.Close()
		err = waitFor(ctx, 60*time.Second, 25*time.Millisecond, m.name+" to accept writes", func() (bool, error) {
			qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err := db.ExecContext(qctx, "INSERT INTO "+ordersTable+" (id, note) VALUES (@p1, @p2)", -1, "probe after failover")
			return err == nil, err
		})
		done <- measured{time.Since(t0), err}
	}()
	return func() measured { return <-done }
}

// waitChange waits until the group's last change of active member has the reason and target and
// is complete.
func (d *demo) waitChange(ctx context.Context, reason, to string, limit time.Duration) (*v1alpha1.FailoverGroup, error) {
	var g *v1alpha1.FailoverGroup
	err := waitFor(ctx, limit, 50*time.Millisecond, fmt.Sprintf("%s to %s", strings.ToLower(reason), to), func() (bool, error) {
		var err error
		if g, err = d.group(ctx); err != nil {
			return false, err
		}
		lf := g.Status.LastFailover
		return lf != nil && lf.Reason == reason && lf.To == to && lf.CompletedAt != nil && g.Status.InProgress == nil, nil
	})
	return g, err
}
