package controllers

import (
	"strings"
	"testing"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/logshipping"
)

func TestRestoreProblemNamesTheCause(t *testing.T) {
	members := []v1alpha1.RestoreMemberStatus{
		{Name: "ds2", Databases: []v1alpha1.RestoreDatabaseStatus{{Name: "Sales"}}},
		{Name: "ds3", Databases: []v1alpha1.RestoreDatabaseStatus{{Name: "Sales", Reason: logshipping.ReasonOtherDatabase,
			Message: "drop or rename it"}}},
	}
	reason, msg := restoreProblem(members)
	if reason != "OtherDatabase" || !strings.Contains(msg, "Sales on ds3") {
		t.Fatalf("restoreProblem() = %q, %q", reason, msg)
	}
	if reason, _ := restoreProblem(members[:1]); reason != "" {
		t.Fatalf("restoreProblem() = %q for a healthy member", reason)
	}
	st := restoreStatusOf(logshipping.DatabaseRestoreResult{Database: "Sales", Reason: logshipping.ReasonForkedDatabase, Message: "reseeding"})
	if st.Reason != "ForkedDatabase" {
		t.Fatalf("restoreStatusOf dropped the reason: %+v", st)
	}
}
