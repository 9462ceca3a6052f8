package lease

import (
	"context"
	"errors"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

func newStore(t *testing.T) (*Store, *v1alpha1.FailoverGroup) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	group := &v1alpha1.FailoverGroup{ObjectMeta: metav1.ObjectMeta{Name: "sales", Namespace: "db", UID: "uid-1"}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(group).Build()
	return &Store{Client: c, Scheme: scheme}, group
}

func TestTakeCreatesOwnedLease(t *testing.T) {
	ctx := context.Background()
	s, group := newStore(t)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	if _, err := s.Take(ctx, group, nil, "ds1", 8*time.Second, now); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, group)
	if err != nil || got == nil {
		t.Fatalf("Get = %v, %v", got, err)
	}
	if Holder(got) != "ds1" || Duration(got) != 8*time.Second || !RenewTime(got).Equal(now) {
		t.Errorf("lease = holder %q duration %v renew %v", Holder(got), Duration(got), RenewTime(got))
	}
	if ptr.Deref(got.Spec.LeaseTransitions, -1) != 0 {
		t.Errorf("transitions = %d, want 0", ptr.Deref(got.Spec.LeaseTransitions, -1))
	}
	if len(got.OwnerReferences) != 1 || got.OwnerReferences[0].UID != "uid-1" || !ptr.Deref(got.OwnerReferences[0].Controller, false) {
		t.Errorf("owner references = %+v", got.OwnerReferences)
	}
	// A second create for the same group loses the race.
	if _, err := s.Take(ctx, group, nil, "ds2", 8*time.Second, now); !errors.Is(err, ErrLostRace) {
		t.Errorf("second create: err = %v, want ErrLostRace", err)
	}
}

func TestTakeCountsTransitionsAndRenewKeepsHolder(t *testing.T) {
	ctx := context.Background()
	s, group := newStore(t)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	l, err := s.Take(ctx, group, nil, "ds1", 8*time.Second, now)
	if err != nil {
		t.Fatal(err)
	}
	l, err = s.Renew(ctx, l, 8*time.Second, now.Add(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if Holder(l) != "ds1" || ptr.Deref(l.Spec.LeaseTransitions, -1) != 0 || !RenewTime(l).Equal(now.Add(3*time.Second)) {
		t.Errorf("after renew: holder %q transitions %d renew %v", Holder(l), ptr.Deref(l.Spec.LeaseTransitions, -1), RenewTime(l))
	}
	l, err = s.Take(ctx, group, l, "ds2", 8*time.Second, now.Add(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if Holder(l) != "ds2" || ptr.Deref(l.Spec.LeaseTransitions, -1) != 1 || !l.Spec.AcquireTime.Time.Equal(now.Add(20*time.Second)) {
		t.Errorf("after take: holder %q transitions %d", Holder(l), ptr.Deref(l.Spec.LeaseTransitions, -1))
	}
}

func TestStaleWriterLosesTheRace(t *testing.T) {
	ctx := context.Background()
	s, group := newStore(t)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	l, err := s.Take(ctx, group, nil, "ds1", 8*time.Second, now)
	if err != nil {
		t.Fatal(err)
	}
	// Two writers read the same version; the first to write wins.
	a, b := l.DeepCopy(), l.DeepCopy()
	if _, err := s.Take(ctx, group, a, "ds2", 8*time.Second, now.Add(10*time.Second)); err != nil {
		t.Fatalf("first writer: %v", err)
	}
	if _, err := s.Take(ctx, group, b, "ds3", 8*time.Second, now.Add(10*time.Second)); !errors.Is(err, ErrLostRace) {
		t.Fatalf("second writer: err = %v, want ErrLostRace", err)
	}
	if _, err := s.Renew(ctx, b, 8*time.Second, now.Add(11*time.Second)); !errors.Is(err, ErrLostRace) {
		t.Fatalf("stale renew: err = %v, want ErrLostRace", err)
	}
	var got coordinationv1.Lease
	if err := s.Client.Get(ctx, client.ObjectKeyFromObject(group), &got); err != nil {
		t.Fatal(err)
	}
	if Holder(&got) != "ds2" || ptr.Deref(got.Spec.LeaseTransitions, -1) != 1 {
		t.Errorf("holder %q transitions %d, want ds2 and 1", Holder(&got), ptr.Deref(got.Spec.LeaseTransitions, -1))
	}
}
