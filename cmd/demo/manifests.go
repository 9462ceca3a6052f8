package main

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/test/mssqlsim"
)

// The demo's names and timings: fast, but valid for the API server's validation rules.
const (
	namespace    = "demo"
	groupName    = "sales"
	databaseName = "Sales"
	serviceName  = "sales-sql"
	secretName   = "sales-sql-login"
	caSecretName = "sales-sql-ca"
	targetName   = "shared-backups"

	logInterval     = 10 * time.Second
	restoreInterval = 10 * time.Second
	restoreOffset   = 2 * time.Second
	probePeriod     = 1 // seconds
	failureThresh   = 2
	leaseSeconds    = 3
)

// selectorFor is the Service selector that routes to a member (its pods' labels).
func selectorFor(member string) map[string]string {
	return map[string]string{"app": serviceName, "member": member}
}

func loginSecret() *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: secretName},
		StringData: map[string]string{"username": "sa", "password": mssqlsim.DefaultSAPassword}}
}

// caSecret holds the CA that signs the members' certificates, under the key the operator reads.
func caSecret(caPEM []byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: caSecretName},
		Data: map[string][]byte{"ca.crt": caPEM}}
}

func backupTarget(dir string) *v1alpha1.BackupTarget {
	return &v1alpha1.BackupTarget{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "BackupTarget"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: targetName},
		Spec:       v1alpha1.BackupTargetSpec{Path: dir, Retention: v1alpha1.NewDuration(48 * time.Hour)},
	}
}

func failoverGroup(ds1, ds2 *sqlMember) *v1alpha1.FailoverGroup {
	member := func(m *sqlMember, priority int32) v1alpha1.Member {
		return v1alpha1.Member{Name: m.name, Priority: priority,
			Address:     &v1alpha1.MemberAddress{Host: m.Host(), Port: m.Port()},
			PodSelector: &metav1.LabelSelector{MatchLabels: selectorFor(m.name)}}
	}
	return &v1alpha1.FailoverGroup{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "FailoverGroup"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: groupName},
		Spec: v1alpha1.FailoverGroupSpec{
			Members: []v1alpha1.Member{member(ds1, 200), member(ds2, 100)},
			HealthCheck: v1alpha1.HealthCheck{SQLServer: &v1alpha1.SQLServerHealthCheck{},
				PeriodSeconds: probePeriod, TimeoutSeconds: 1, FailureThreshold: failureThresh, SuccessThreshold: 1},
			Failover: v1alpha1.FailoverPolicy{LeaseDurationSeconds: leaseSeconds},
			SQLServer: &v1alpha1.SQLServerSpec{CredentialsSecretRef: v1alpha1.SecretReference{Name: secretName}, Port: 1433,
				Databases: []v1alpha1.DatabaseName{databaseName}, TLS: &v1alpha1.SQLServerTLS{Mode: v1alpha1.EncryptionMandatory,
					CASecretRef: &v1alpha1.SecretReference{Name: caSecretName}}},
			LogShipping: &v1alpha1.LogShippingSpec{BackupTargetRef: v1alpha1.LocalObjectReference{Name: targetName},
				LogBackupInterval: v1alpha1.NewDuration(logInterval), FullBackupSchedule: "0 2 * * *"},
			Routing: &v1alpha1.Routing{Service: &v1alpha1.RoutedService{Name: serviceName,
				Ports: []v1alpha1.ServicePort{{Name: "tds", Port: 1433}}}},
		},
	}
}

func restoreSchedule() *v1alpha1.RestoreSchedule {
	return &v1alpha1.RestoreSchedule{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "RestoreSchedule"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: groupName},
		Spec: v1alpha1.RestoreScheduleSpec{FailoverGroupRef: v1alpha1.LocalObjectReference{Name: groupName},
			Interval: v1alpha1.NewDuration(restoreInterval), Offset: v1alpha1.NewDuration(restoreOffset),
			Mode: v1alpha1.RestoreStandby},
	}
}

// manifest renders an object as the YAML a user would apply (no status, no server fields).
func manifest(typeMeta metav1.TypeMeta, meta metav1.ObjectMeta, spec any) string {
	out, err := yaml.Marshal(map[string]any{
		"apiVersion": typeMeta.APIVersion,
		"kind":       typeMeta.Kind,
		"metadata":   map[string]string{"name": meta.Name, "namespace": meta.Namespace},
		"spec":       spec,
	})
	if err != nil {
		return "# " + err.Error()
	}
	return string(out)
}
