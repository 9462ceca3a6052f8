package controllers

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

func sqlGroup() *v1alpha1.FailoverGroup {
	return &v1alpha1.FailoverGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "sales"},
		Spec: v1alpha1.FailoverGroupSpec{SQLServer: &v1alpha1.SQLServerSpec{
			CredentialsSecretRef: v1alpha1.SecretReference{Name: "login"}, Port: 1433, Databases: []v1alpha1.DatabaseName{"Sales"},
			TLS: &v1alpha1.SQLServerTLS{Mode: v1alpha1.EncryptionMandatory, CASecretRef: &v1alpha1.SecretReference{Name: "ca"},
				HostNameInCertificate: "sql.db.svc"}}}}
}

func TestSQLCredentials(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	secret := func(name string, data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: name}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	const password = "Hunter2-very-secret"
	tests := []struct {
		name    string
		objs    []*corev1.Secret
		wantErr string
	}{
		{name: "login and CA", objs: []*corev1.Secret{
			secret("login", map[string]string{"username": "understudy", "password": password}),
			secret("ca", map[string]string{"ca.crt": "-----BEGIN CERTIFICATE-----"})}},
		{name: "missing secret", wantErr: "read credentials secret login"},
		{name: "missing password", objs: []*corev1.Secret{secret("login", map[string]string{"username": "understudy"})},
			wantErr: `credentials secret login needs keys "username" and "password"`},
		{name: "CA secret without ca.crt", objs: []*corev1.Secret{
			secret("login", map[string]string{"username": "understudy", "password": password}), secret("ca", map[string]string{"x": "y"})},
			wantErr: `CA secret ca has no key "ca.crt"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := fake.NewClientBuilder().WithScheme(scheme)
			for _, o := range tt.objs {
				b = b.WithObjects(o)
			}
			cfg, err := sqlCredentials(context.Background(), b.Build(), sqlGroup())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), password) {
					t.Fatal("the password leaked into the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Username != "understudy" || cfg.Password != password || cfg.Encrypt != sqlserver.EncryptMandatory || len(cfg.CACertPEM) == 0 ||
				cfg.HostNameInCertificate != "sql.db.svc" || cfg.TrustServerCertificate {
				t.Errorf("config = %v", cfg)
			}
		})
	}
}

func TestSQLEndpoint(t *testing.T) {
	g := sqlGroup()
	pod := &corev1.Pod{Status: corev1.PodStatus{PodIP: "10.1.2.3"}}
	tests := []struct {
		name     string
		member   v1alpha1.Member
		pods     memberPods
		wantHost string
		wantPort int
		wantOK   bool
	}{
		{"address with port", v1alpha1.Member{Address: &v1alpha1.MemberAddress{Host: "db1", Port: 14330}}, memberPods{}, "db1", 14330, true},
		{"address without port", v1alpha1.Member{Address: &v1alpha1.MemberAddress{Host: "db1"}}, memberPods{}, "db1", 1433, true},
		{"ready pod", v1alpha1.Member{}, memberPods{hasSelector: true, ready: pod}, "10.1.2.3", 1433, true},
		{"no ready pod", v1alpha1.Member{}, memberPods{hasSelector: true}, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, port, ok := sqlEndpoint(g, tt.member, tt.pods)
			if host != tt.wantHost || port != tt.wantPort || ok != tt.wantOK {
				t.Errorf("got %s:%d %v", host, port, ok)
			}
		})
	}
}

func TestSQLCertificateName(t *testing.T) {
	plainPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "sql-a"}, Status: corev1.PodStatus{PodIP: "10.1.2.3"}}
	statefulPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "sql-0"},
		Spec: corev1.PodSpec{Hostname: "sql-0", Subdomain: "sql"}, Status: corev1.PodStatus{PodIP: "10.1.2.4"}}
	subdomainOnly := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "sql-x"},
		Spec: corev1.PodSpec{Subdomain: "sql"}, Status: corev1.PodStatus{PodIP: "10.1.2.5"}}
	external := v1alpha1.Member{Address: &v1alpha1.MemberAddress{Host: "sql.example.com"}}
	tests := []struct {
		name     string
		override string
		member   v1alpha1.Member
		pods     memberPods
		want     string
	}{
		{"StatefulSet pod: <pod>.<service>.<namespace>.svc", "", v1alpha1.Member{}, memberPods{hasSelector: true, ready: statefulPod}, "sql-0.sql.db.svc"},
		{"subdomain without hostname: the pod name", "", v1alpha1.Member{}, memberPods{hasSelector: true, ready: subdomainOnly}, "sql-x.sql.db.svc"},
		{"pod without subdomain: the dialed IP", "", v1alpha1.Member{}, memberPods{hasSelector: true, ready: plainPod}, ""},
		{"address.host", "", external, memberPods{hasSelector: true, ready: statefulPod}, "sql.example.com"},
		{"hostNameInCertificate wins", "sql.db.svc", external, memberPods{}, "sql.db.svc"},
		{"no endpoint", "", v1alpha1.Member{}, memberPods{hasSelector: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := sqlGroup()
			g.Spec.SQLServer.TLS.HostNameInCertificate = tt.override
			if got := sqlCertificateName(g, tt.member, tt.pods); got != tt.want {
				t.Errorf("sqlCertificateName = %q, want %q", got, tt.want)
			}
			host, port, ok := sqlEndpoint(g, tt.member, tt.pods)
			cfg := memberSQLConfig(sqlserver.Config{Username: "u"}, g, tt.member, tt.pods, host, port)
			if ok && (cfg.Host != host || cfg.Port != port || cfg.HostNameInCertificate != tt.want) {
				t.Errorf("memberSQLConfig = %v", cfg)
			}
		})
	}
}
