package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/notify"
)

// event records a Kubernetes Event on the group.
func (r *FailoverGroupReconciler) event(g *v1alpha1.FailoverGroup, eventType, reason, action, note string, args ...any) {
	if r.Recorder == nil {
		return
	}
	r.Recorder.Eventf(g, nil, eventType, reason, action, note, args...)
}

// notify queues ev for the group's webhooks; it never blocks on delivery. A webhook whose secret
// cannot be read is skipped (and logged without the secret's content).
func (r *FailoverGroupReconciler) notify(ctx context.Context, g *v1alpha1.FailoverGroup, ev notify.Event) {
	sendNotification(ctx, r.Notifier, r.APIReader, r.Clock, g, ev)
}

// notify queues ev for the group's webhooks, as FailoverGroupReconciler.notify does.
func (r *LogShippingReconciler) notify(ctx context.Context, g *v1alpha1.FailoverGroup, ev notify.Event) {
	sendNotification(ctx, r.Notifier, r.APIReader, r.Clock, g, ev)
}

// sendNotification queues ev for those of g's webhooks that subscribe to it, reading their HMAC
// secrets through secrets; nothing is sent when notifier is nil or the group has no webhooks.
func sendNotification(ctx context.Context, notifier *notify.Dispatcher, secrets client.Reader, clk clock.PassiveClock,
	g *v1alpha1.FailoverGroup, ev notify.Event) {
	if notifier == nil || g.Spec.Notifications == nil || len(g.Spec.Notifications.Webhooks) == 0 {
		return
	}
	ev.Group, ev.Namespace, ev.Time = g.Name, g.Namespace, clk.Now()
	hooks := make([]notify.Webhook, 0, len(g.Spec.Notifications.Webhooks))
	for _, wh := range g.Spec.Notifications.Webhooks {
		hook := notify.Webhook{URL: wh.URL}
		for _, e := range wh.Events {
			hook.Events = append(hook.Events, string(e))
		}
		if !hook.Wants(ev.Event) {
			continue
		}
		if wh.SecretRef != nil {
			var s corev1.Secret
			if err := secrets.Get(ctx, client.ObjectKey{Namespace: g.Namespace, Name: wh.SecretRef.Name}, &s); err != nil {
				logf.FromContext(ctx).Error(err, "webhook secret unreadable; webhook skipped", "secret", wh.SecretRef.Name, "webhook", hook)
				continue
			}
			key, ok := s.Data[wh.SecretRef.Key]
			if !ok {
				logf.FromContext(ctx).Info("webhook secret has no such key; webhook skipped", "secret", wh.SecretRef.Name, "key", wh.SecretRef.Key, "webhook", hook)
				continue
			}
			hook.Secret = key
		}
		hooks = append(hooks, hook)
	}
	notifier.Send(hooks, ev)
}
