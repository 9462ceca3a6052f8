package controllers

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// The group's statementTimeout and backupRestoreTimeout reach the connections; unset, the client's
// defaults (30s, 2h) apply.
func TestSQLCredentialsCarryTheTimeouts(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	login := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "login"},
		Data: map[string][]byte{"username": []byte("understudy"), "password": []byte("pw")}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(login).Build()
	g := sqlGroup()
	g.Spec.SQLServer.TLS = nil
	g.Spec.SQLServer.StatementTimeout = v1alpha1.NewDuration(45 * time.Second)
	g.Spec.SQLServer.BackupRestoreTimeout = v1alpha1.NewDuration(6 * time.Hour)
	cfg, err := sqlCredentials(context.Background(), c, g)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StatementTimeout != 45*time.Second || cfg.BackupRestoreTimeout != 6*time.Hour {
		t.Fatalf("timeouts %v / %v, want 45s / 6h", cfg.StatementTimeout, cfg.BackupRestoreTimeout)
	}
	g.Spec.SQLServer.StatementTimeout, g.Spec.SQLServer.BackupRestoreTimeout = v1alpha1.Duration{}, v1alpha1.Duration{}
	if cfg, err = sqlCredentials(context.Background(), c, g); err != nil || cfg.StatementTimeout != 0 || cfg.BackupRestoreTimeout != 0 {
		t.Fatalf("unset timeouts: %v / %v, %v; want 0 (the client's defaults)", cfg.StatementTimeout, cfg.BackupRestoreTimeout, err)
	}
}
