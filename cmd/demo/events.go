package main

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// groupEvents lists the events.k8s.io Events about a FailoverGroup that happened at or after
// since, oldest first.
func groupEvents(ctx context.Context, c client.Client, namespace, group string, since time.Time) ([]eventsv1.Event, error) {
	var list eventsv1.EventList
	if err := c.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind != "FailoverGroup" || e.Regarding.Name != group || eventTime(e).Before(since) {
			continue
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return eventTime(out[i]).Before(eventTime(out[j])) })
	return out, nil
}

// eventTime is when an event (or the last of its series) happened.
func eventTime(e eventsv1.Event) time.Time {
	if e.Series != nil && !e.Series.LastObservedTime.IsZero() {
		return e.Series.LastObservedTime.Time
	}
	if !e.EventTime.IsZero() {
		return e.EventTime.Time
	}
	return e.DeprecatedLastTimestamp.Time
}

// hasReason says whether one of the events has the reason.
func hasReason(events []eventsv1.Event, reason string) bool {
	for _, e := range events {
		if e.Reason == reason {
			return true
		}
	}
	return false
}

// printEvents prints events like `kubectl events`, with the time relative to t0 instead of an age.
func printEvents(n *narrator, events []eventsv1.Event, t0 time.Time) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 6, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "T\tTYPE\tREASON\tOBJECT\tMESSAGE")
	for _, e := range events {
		fmt.Fprintf(tw, "%+.2fs\t%s\t%s\t%s\t%s\n", eventTime(e).Sub(t0).Seconds(), e.Type, e.Reason,
			"failovergroup/"+e.Regarding.Name, e.Note)
	}
	_ = tw.Flush()
	n.Block(buf.String())
}
