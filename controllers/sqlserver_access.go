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
	cfg := sqlserver.Config{Username: string(s.Data[secretKeyUsername]), Password: string(s.Data[secretKeyPassword]),
		StatementTimeout: spec.StatementTimeout.Duration, BackupRestoreTimeout: spec.BackupRestoreTimeout.Duration}
	if cfg.Username == "" || cfg.Password == "" {
		return sqlserver.Config{}, fmt.Errorf("credentials secret %s needs keys %q and %q", spec.CredentialsSecretRef.Name, secretKeyUsername, secretKeyPassword)
	}
	if tls := spec.TLS; tls != nil {
		cfg.Encrypt = sqlserver.EncryptMode(tls.Mode)
		cfg.HostNameInCertificate = tls.HostNameInCertificate
		cfg.TrustServerCertificate = tls.TrustServerCertificate
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
// A pod is dialed by the IP the API server reports (what its headless Service's DNS record would
// resolve to, without a DNS lookup or a cached answer that outlives a restarted pod); its
// certificate is verified against its stable DNS name (sqlCertificateName), not that IP.
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

// sqlCertificateName is the name a member's server certificate must carry:
// spec.sqlServer.tls.hostNameInCertificate, else the member's address.host, else the stable DNS
// name of its Ready pod (podDNSName), else "" (the dialed pod IP).
func sqlCertificateName(g *v1alpha1.FailoverGroup, m v1alpha1.Member, pods memberPods) string {
	switch {
	case g.Spec.SQLServer != nil && g.Spec.SQLServer.TLS != nil && g.Spec.SQLServer.TLS.HostNameInCertificate != "":
		return g.Spec.SQLServer.TLS.HostNameInCertificate
	case m.Address != nil:
		return m.Address.Host
	case pods.ready != nil:
		return podDNSName(pods.ready)
	}
	return ""
}

// memberSQLConfig is cfg (the group's login and TLS settings) for one member dialed at host:port,
// with the name its certificate is verified against.
func memberSQLConfig(cfg sqlserver.Config, g *v1alpha1.FailoverGroup, m v1alpha1.Member, pods memberPods, host string, port int) sqlserver.Config {
	cfg.Host, cfg.Port = host, port
	cfg.HostNameInCertificate = sqlCertificateName(g, m, pods)
	return cfg
}

// podDNSName is the stable DNS name of a pod with a subdomain, <hostname>.<subdomain>.<namespace>.svc
// (a StatefulSet pod behind its headless Service: <pod>.<service>.<namespace>.svc), else "".
func podDNSName(p *corev1.Pod) string {
	if p.Spec.Subdomain == "" {
		return ""
	}
	hostname := p.Spec.Hostname
	if hostname == "" {
		hostname = p.Name
	}
	return hostname + "." + p.Spec.Subdomain + "." + p.Namespace + ".svc"
}
