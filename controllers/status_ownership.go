package controllers

import (
	"bytes"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// adoptUpdatedStatus hands the FailoverGroup status fields that plain updates own (an operator
// version before server-side apply, a person's `kubectl edit --subresource=status`) to the field
// manager that now applies each: the log-shipping reconciler's fields (logShippingPath) to
// FieldManagerLogShipping, every other status field to FieldManagerFailover. Left with an update
// owner, a field would outlive its reconciler's decision to drop it (an inProgress that never
// clears). changed is false when no plain update owns any status field.
func adoptUpdatedStatus(entries []metav1.ManagedFieldsEntry) (out []metav1.ManagedFieldsEntry, changed bool, err error) {
	failoverSet, shippingSet := &fieldpath.Set{}, &fieldpath.Set{}
	apiVersion := ""
	for _, e := range entries {
		if e.Subresource != "status" || e.Operation != metav1.ManagedFieldsOperationUpdate {
			out = append(out, e)
			continue
		}
		changed, apiVersion = true, e.APIVersion
		if e.FieldsV1 == nil {
			continue
		}
		set := &fieldpath.Set{}
		if err := set.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
			return nil, false, fmt.Errorf("managed fields of %s: %w", e.Manager, err)
		}
		set.Iterate(func(p fieldpath.Path) {
			if logShippingPath(p) {
				shippingSet.Insert(p)
			} else {
				failoverSet.Insert(p)
			}
		})
	}
	if !changed {
		return entries, false, nil
	}
	if out, err = mergeApplied(out, FieldManagerFailover, apiVersion, failoverSet); err != nil {
		return nil, false, err
	}
	if out, err = mergeApplied(out, FieldManagerLogShipping, apiVersion, shippingSet); err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// logShippingPath says whether p is one of the log-shipping reconciler's status fields:
// status.lag, status.members[].databases and the LogShipping condition (and what is below them).
func logShippingPath(p fieldpath.Path) bool {
	if len(p) < 2 || !fieldIs(p[0], "status") {
		return false
	}
	switch {
	case fieldIs(p[1], "lag"):
		return true
	case fieldIs(p[1], "members"):
		return len(p) >= 4 && fieldIs(p[3], "databases")
	case fieldIs(p[1], "conditions"):
		return len(p) >= 3 && keyIs(p[2], "type", v1alpha1.ConditionLogShipping)
	}
	return false
}

func fieldIs(pe fieldpath.PathElement, name string) bool {
	return pe.FieldName != nil && *pe.FieldName == name
}

func keyIs(pe fieldpath.PathElement, field, value string) bool {
	if pe.Key == nil {
		return false
	}
	for _, f := range *pe.Key {
		if f.Name == field && f.Value.IsString() && f.Value.AsString() == value {
			return true
		}
	}
	return false
}

// mergeApplied adds set to manager's Apply entry of the status subresource (made when missing).
func mergeApplied(entries []metav1.ManagedFieldsEntry, manager, apiVersion string, set *fieldpath.Set) ([]metav1.ManagedFieldsEntry, error) {
	if set.Empty() {
		return entries, nil
	}
	for i, e := range entries {
		if e.Manager != manager || e.Operation != metav1.ManagedFieldsOperationApply || e.Subresource != "status" {
			continue
		}
		if e.FieldsV1 != nil {
			own := &fieldpath.Set{}
			if err := own.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
				return nil, fmt.Errorf("managed fields of %s: %w", manager, err)
			}
			set = set.Union(own)
		}
		raw, err := set.ToJSON()
		if err != nil {
			return nil, err
		}
		entries[i].FieldsV1 = &metav1.FieldsV1{Raw: raw}
		return entries, nil
	}
	raw, err := set.ToJSON()
	if err != nil {
		return nil, err
	}
	return append(entries, metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationApply,
		APIVersion: apiVersion, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: raw}, Subresource: "status"}), nil
}
