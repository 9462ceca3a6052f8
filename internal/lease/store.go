package lease

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// LabelGroup is set on every group Lease, so the operator caches only those Leases. It is the one
// label the operator puts on every object it makes for a group (v1alpha1.LabelGroup).
const LabelGroup = v1alpha1.LabelGroup

// ErrLostRace means another writer changed the Lease first; the caller must not act on its plan.
var ErrLostRace = errors.New("lease changed by another writer")

// Store reads and writes groups' Leases.
type Store struct {
	Client client.Client
	Scheme *runtime.Scheme
}

// Get returns the group's Lease, or nil when it does not exist.
func (s *Store) Get(ctx context.Context, owner client.Object) (*coordinationv1.Lease, error) {
	var l coordinationv1.Lease
	err := s.Client.Get(ctx, client.ObjectKeyFromObject(owner), &l)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get lease %s/%s: %w", owner.GetNamespace(), owner.GetName(), err)
	}
	return &l, nil
}

// Take gives the role to holder: it creates the Lease when current is nil, else updates current
// (compare-and-swap on its resourceVersion). leaseTransitions grows by one when the holder changes.
func (s *Store) Take(ctx context.Context, owner client.Object, current *coordinationv1.Lease, holder string, duration time.Duration, now time.Time) (*coordinationv1.Lease, error) {
	mt := metav1.NewMicroTime(now)
	if current == nil {
		l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: owner.GetName(), Namespace: owner.GetNamespace(),
			Labels: map[string]string{LabelGroup: owner.GetName()}}}
		l.Spec = coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(holder),
			LeaseDurationSeconds: ptr.To(int32(duration / time.Second)),
			AcquireTime:          &mt,
			RenewTime:            &mt,
			LeaseTransitions:     ptr.To(int32(0)),
		}
		if err := controllerutil.SetControllerReference(owner, l, s.Scheme); err != nil {
			return nil, fmt.Errorf("own lease: %w", err)
		}
		if err := s.Client.Create(ctx, l); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return nil, ErrLostRace
			}
			return nil, fmt.Errorf("create lease %s/%s: %w", l.Namespace, l.Name, err)
		}
		return l, nil
	}
	l := current.DeepCopy()
	if Holder(l) != holder {
		l.Spec.LeaseTransitions = ptr.To(ptr.Deref(l.Spec.LeaseTransitions, 0) + 1)
		l.Spec.AcquireTime = &mt
	}
	l.Spec.HolderIdentity = ptr.To(holder)
	l.Spec.RenewTime = &mt
	l.Spec.LeaseDurationSeconds = ptr.To(int32(duration / time.Second))
	return l, s.update(ctx, l)
}

// Renew moves renewTime to now (and the duration to the spec's) without changing the holder.
func (s *Store) Renew(ctx context.Context, current *coordinationv1.Lease, duration time.Duration, now time.Time) (*coordinationv1.Lease, error) {
	l := current.DeepCopy()
	mt := metav1.NewMicroTime(now)
	l.Spec.RenewTime = &mt
	l.Spec.LeaseDurationSeconds = ptr.To(int32(duration / time.Second))
	return l, s.update(ctx, l)
}

func (s *Store) update(ctx context.Context, l *coordinationv1.Lease) error {
	if err := s.Client.Update(ctx, l); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return ErrLostRace
		}
		return fmt.Errorf("update lease %s/%s: %w", l.Namespace, l.Name, err)
	}
	return nil
}

// Holder is the Lease's holderIdentity ("" when none).
func Holder(l *coordinationv1.Lease) string {
	if l == nil {
		return ""
	}
	return ptr.Deref(l.Spec.HolderIdentity, "")
}

// RenewTime is the Lease's renewTime (zero when none).
func RenewTime(l *coordinationv1.Lease) time.Time {
	if l == nil || l.Spec.RenewTime == nil {
		return time.Time{}
	}
	return l.Spec.RenewTime.Time
}

// Duration is the Lease's duration.
func Duration(l *coordinationv1.Lease) time.Duration {
	if l == nil {
		return 0
	}
	return time.Duration(ptr.Deref(l.Spec.LeaseDurationSeconds, 0)) * time.Second
}
