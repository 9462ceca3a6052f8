package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// Keys of the Secrets that spec.sqlServer refers to.
const (
	secretKeyUsername = "username"
	secretKeyPassword = "password"
	secretKeyCACert   = "ca.crt"
)

// sqlCredentials reads the login and CA of a SQL Server group. Errors name the Secret and key,
// never their content.
func sqlCredentials(ctx context.Context, reader client.Reader, g *v1alpha1.FailoverGroup) (sqlserver.Config, error) {
	spec := g.Spec.SQLServer
	if spec == nil {
		return sqlserver.Config{}, fmt.Errorf("group %s/%s has no spec.sqlServer", g.Namespace, g.Name)
	}
	var s corev1.Secret
	if err := reader.Get(ctx, client.ObjectKey{Namespace: g.Namespace, Name: spec.CredentialsSecretRef.Name}, &s); err != nil {
		return sqlserver.Config{}, fmt.Errorf("read credentials secret %s: %w", spec.CredentialsSecretRef.Name, err)
	}
	cfg := sqlserver.Config{Username: string(s.Data[secretKeyUsername]), Password: string(s.Data[secretKeyPassword])}
	if cfg.Username == "" || cfg.Password == "" {
		return sqlserver.Config{}, fmt.Errorf("credentials secret %s needs keys %q and %q", spec.CredentialsSecretRef.Name, secretKeyUsername, secretKeyPassword)
	}
	if tls := spec.TLS; tls != nil {
		cfg.Encrypt = sqlserver.EncryptMode(tls.Mode)
		if tls.CASecretRef != nil {
			var ca corev1.Secret
			if err := reader.Get(ctx, client.ObjectKey{Namespace: g.Namespace, Name: tls.CASecretRef.Name}, &ca); err != nil {
				return sqlserver.Config{}, fmt.Errorf("read CA secret %s: %w", tls.CASecretRef.Name, err)
			}
			if cfg.CACertPEM = ca.Data[secretKeyCACert]; len(cfg.CACertPEM) == 0 {
				return sqlserver.Config{}, fmt.Errorf("CA secret %s has no key %q", tls.CASecretRef.Name, secretKeyCACert)
			}
		}
	}
	return cfg, nil
}

// databaseNames converts API database names to plain strings.
func databaseNames(names []v1alpha1.DatabaseName) []string {
	out := make([]string, 0, len(names))
	for _, d := range names {
		out = append(out, string(d))
	}
	return out
}

// sqlEndpoint is where a member's SQL Server listens: its address, else its Ready pod's IP, on
// address.port or spec.sqlServer.port. ok is false when the member has no reachable endpoint now.
func sqlEndpoint(g *v1alpha1.FailoverGroup, m v1alpha1.Member, pods memberPods) (host string, port int, ok bool) {
	port = int(g.Spec.SQLServer.Port)
	switch {
	case m.Address != nil:
		host = m.Address.Host
		if m.Address.Port != 0 {
			port = int(m.Address.Port)
		}
	case pods.ready != nil:
		host = pods.ready.Status.PodIP
	default:
		return "", 0, false
	}
	return host, port, true
}
