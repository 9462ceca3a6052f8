package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

func TestCompressionCondition(t *testing.T) {
	g := &v1alpha1.FailoverGroup{ObjectMeta: metav1.ObjectMeta{Generation: 4}}
	express := sqlserver.ServerInfo{Edition: "Express Edition (64-bit)", EngineEdition: 4}
	developer := sqlserver.ServerInfo{Edition: "Developer Edition (64-bit)", EngineEdition: 3}
	tests := []struct {
		name    string
		comp    logshipping.Compression
		status  metav1.ConditionStatus
		reason  string
		message string
	}{
		{"not requested", logshipping.Compression{}, metav1.ConditionTrue, v1alpha1.ReasonBackupCompressionNotRequested,
			"BackupTarget nfs has compression: false"},
		{"compressed", logshipping.Compression{Requested: true, Server: developer}, metav1.ConditionTrue, v1alpha1.ReasonBackupCompressionCompressed,
			"backups on a (Developer Edition (64-bit)) are taken WITH COMPRESSION"},
		{"express", logshipping.Compression{Requested: true, Server: express}, metav1.ConditionFalse, v1alpha1.ReasonBackupCompressionEditionCannotCompress,
			"a runs Express Edition (64-bit), which cannot compress backups: they are taken without COMPRESSION (BackupTarget nfs spec.compression: false says so and clears this)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compressionCondition(g, "nfs", "a", tt.comp)
			if c.Type != v1alpha1.ConditionBackupCompression || c.Status != tt.status || c.Reason != tt.reason || c.Message != tt.message || c.ObservedGeneration != 4 {
				t.Fatalf("condition %+v, want %s %s %q (generation 4)", c, tt.status, tt.reason, tt.message)
			}
		})
	}
}
