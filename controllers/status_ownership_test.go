package controllers

import (
	"bytes"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// An operator before server-side apply wrote the whole status with plain updates.
const updatedStatus = `{"f:status":{".":{},"f:lag":{},"f:phase":{},` +
	`"f:conditions":{".":{},"k:{\"type\":\"LogShipping\"}":{".":{},"f:status":{}},"k:{\"type\":\"Ready\"}":{".":{},"f:status":{}}},` +
	`"f:members":{".":{},"k:{\"name\":\"a\"}":{".":{},"f:name":{},"f:role":{},"f:databases":{".":{},"k:{\"name\":\"sales\"}":{".":{},"f:lsn":{}}}}}}}`

func ownedBy(t *testing.T, entries []metav1.ManagedFieldsEntry, manager string) *fieldpath.Set {
	t.Helper()
	for _, e := range entries {
		if e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "status" {
			set := &fieldpath.Set{}
			if err := set.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
				t.Fatal(err)
			}
			return set
		}
	}
	return &fieldpath.Set{}
}

func TestAdoptUpdatedStatus(t *testing.T) {
	spec := metav1.ManagedFieldsEntry{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "understudy.dev/v1alpha1",
		FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:members":{}}}`)}}
	old := metav1.ManagedFieldsEntry{Manager: "manager", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "understudy.dev/v1alpha1",
		FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(updatedStatus)}, Subresource: "status"}
	out, changed, err := adoptUpdatedStatus([]metav1.ManagedFieldsEntry{spec, old})
	if err != nil || !changed {
		t.Fatalf("adoptUpdatedStatus: changed %v, err %v", changed, err)
	}
	for _, e := range out {
		if e.Subresource == "status" && e.Operation == metav1.ManagedFieldsOperationUpdate {
			t.Errorf("an update still owns status fields: %s", e.Manager)
		}
	}
	if out[0].Manager != "kubectl" || out[0].Subresource != "" {
		t.Errorf("the spec's owner is kept first, got %+v", out[0])
	}
	member := fieldpath.KeyByFields("name", "a")
	db := fieldpath.KeyByFields("name", "sales")
	logShipping := fieldpath.KeyByFields("type", "LogShipping")
	ready := fieldpath.KeyByFields("type", "Ready")
	failover, shipping := ownedBy(t, out, FieldManagerFailover), ownedBy(t, out, FieldManagerLogShipping)
	tests := []struct {
		path     fieldpath.Path
		shipping bool
	}{
		{fieldpath.MakePathOrDie("status", "phase"), false},
		{fieldpath.MakePathOrDie("status", "conditions", ready, "status"), false},
		{fieldpath.MakePathOrDie("status", "members", member), false},
		{fieldpath.MakePathOrDie("status", "members", member, "role"), false},
		{fieldpath.MakePathOrDie("status", "lag"), true},
		{fieldpath.MakePathOrDie("status", "conditions", logShipping), true},
		{fieldpath.MakePathOrDie("status", "conditions", logShipping, "status"), true},
		{fieldpath.MakePathOrDie("status", "members", member, "databases"), true},
		{fieldpath.MakePathOrDie("status", "members", member, "databases", db, "lsn"), true},
	}
	for _, tt := range tests {
		if failover.Has(tt.path) == tt.shipping || shipping.Has(tt.path) != tt.shipping {
			t.Errorf("%s: failover owns %v, log shipping owns %v; want log shipping %v", tt.path, failover.Has(tt.path), shipping.Has(tt.path), tt.shipping)
		}
	}
}

func TestAdoptUpdatedStatusMergesIntoAnExistingApply(t *testing.T) {
	applied := metav1.ManagedFieldsEntry{Manager: FieldManagerFailover, Operation: metav1.ManagedFieldsOperationApply, APIVersion: "understudy.dev/v1alpha1",
		FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:status":{"f:healthy":{}}}`)}, Subresource: "status"}
	edit := metav1.ManagedFieldsEntry{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "understudy.dev/v1alpha1",
		FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:status":{"f:phase":{}}}`)}, Subresource: "status"}
	out, changed, err := adoptUpdatedStatus([]metav1.ManagedFieldsEntry{applied, edit})
	if err != nil || !changed || len(out) != 1 {
		t.Fatalf("want one entry, changed; got %d entries, changed %v, err %v", len(out), changed, err)
	}
	own := ownedBy(t, out, FieldManagerFailover)
	for _, f := range []string{"healthy", "phase"} {
		if !own.Has(fieldpath.MakePathOrDie("status", f)) {
			t.Errorf("status.%s is not the failover reconciler's", f)
		}
	}
	if same, changed, _ := adoptUpdatedStatus(out); changed || len(same) != 1 {
		t.Errorf("a second adoption changed something: %v", same)
	}
}
