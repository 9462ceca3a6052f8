package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// printEventsSince prints the group's events since a moment, first waiting (briefly) for an event
// with the given reason: events are written asynchronously.
func (d *demo) printEventsSince(ctx context.Context, since, t0 time.Time, reason string) {
	var events []eventsv1.Event
	_ = waitFor(ctx, 10*time.Second, 100*time.Millisecond, "event "+reason, func() (bool, error) {
		var err error
		events, err = groupEvents(ctx, d.cl.client, namespace, groupName, since)
		return err == nil && (reason == "" || hasReason(events, reason)), err
	})
	printEvents(d.n, events, t0)
}

// printMembers prints the members' roles and database positions from the group's status.
func (d *demo) printMembers(g *v1alpha1.FailoverGroup) {
	d.n.Block("# status.members of failovergroup/" + groupName + ":")
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 6, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tROLE\tHEALTHY\tDATABASE\tSTATE\tLSN\tLAG\tSALVAGE FILE")
	for _, m := range g.Status.Members {
		if len(m.Databases) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%t\t\t\t\t\t\n", m.Name, m.Role, m.Healthy)
		}
		for _, db := range m.Databases {
			salvage := db.SalvageFile
			if salvage != "" {
				salvage = filepath.Base(salvage)
			}
			state, lsn, lag := db.State, db.LSN, fmt.Sprintf("%ds", db.LagSeconds)
			if m.Role == v1alpha1.RoleActive {
				// Restore positions describe standbys; the primary's are those of its standby days.
				state, lsn, lag = "(primary)", "-", "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%t\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Role, m.Healthy, db.Name, state, lsn, lag, salvage)
		}
	}
	_ = tw.Flush()
	d.n.Block(b.String())
}

func (d *demo) group(ctx context.Context) (*v1alpha1.FailoverGroup, error) {
	var g v1alpha1.FailoverGroup
	if err := d.cl.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: groupName}, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// selector is the routed Service's selector (nil when it cannot be read).
func (d *demo) selector(ctx context.Context) map[string]string {
	var svc corev1.Service
	if err := d.cl.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: serviceName}, &svc); err != nil {
		return nil
	}
	return svc.Spec.Selector
}

// lastLogBackup is when the newest log backup of the database finished, from the BackupTarget's
// status (zero when there is none yet).
func (d *demo) lastLogBackup(ctx context.Context) (time.Time, error) {
	var bt v1alpha1.BackupTarget
	if err := d.cl.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: targetName}, &bt); err != nil {
		return time.Time{}, err
	}
	for _, b := range bt.Status.Backups {
		if b.Group == groupName && b.Database == databaseName && b.LastLog != nil && b.LastLog.FinishedAt != nil {
			return b.LastLog.FinishedAt.Time, nil
		}
	}
	return time.Time{}, nil
}

func memberStatusOf(g *v1alpha1.FailoverGroup, name string) *v1alpha1.MemberStatus {
	for i := range g.Status.Members {
		if g.Status.Members[i].Name == name {
			return &g.Status.Members[i]
		}
	}
	return nil
}

func fmtSelector(sel map[string]string) string {
	return metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: sel})
}
