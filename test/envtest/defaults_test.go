package envtest_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

var _ = Describe("API defaults", func() {
	It("fills in FailoverGroup defaults", func() {
		obj := objectFromYAML(minimalSQLGroup)
		set("spec.routing", map[string]any{
			"service": map[string]any{"name": "sales", "ports": []any{map[string]any{"port": int64(1433)}}},
			"dns":     map[string]any{"hostname": "sales.example.com"},
		})(obj.Object)
		set("spec.sqlServer.tls", map[string]any{})(obj.Object)
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())

		var got v1alpha1.FailoverGroup
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &got)).To(Succeed())
		Expect(got.Spec.HealthCheck.PeriodSeconds).To(Equal(int32(2)))
		Expect(got.Spec.HealthCheck.TimeoutSeconds).To(Equal(int32(1)))
		Expect(got.Spec.HealthCheck.FailureThreshold).To(Equal(int32(3)))
		Expect(got.Spec.HealthCheck.SuccessThreshold).To(Equal(int32(2)))
		Expect(got.Spec.Failover.Mode).To(Equal(v1alpha1.FailoverAutomatic))
		Expect(got.Spec.Failover.Failback).To(Equal(v1alpha1.FailbackNever))
		Expect(got.Spec.Failover.FailbackDelaySeconds).To(Equal(int32(300)))
		Expect(got.Spec.Failover.LeaseDurationSeconds).To(Equal(int32(8)))
		Expect(got.Spec.Failover.Paused).To(BeFalse())
		Expect(got.Spec.SQLServer.Port).To(Equal(int32(1433)))
		Expect(got.Spec.SQLServer.TLS.Mode).To(Equal(v1alpha1.EncryptionMandatory))
		Expect(got.Spec.SQLServer.TLS.TrustServerCertificate).To(BeFalse())
		Expect(got.Spec.LogShipping.LogBackupInterval.Duration).To(Equal(time.Minute))
		Expect(got.Spec.LogShipping.FullBackupSchedule).To(Equal("0 2 * * *"))
		Expect(got.Spec.Routing.Service.Type).To(Equal(v1alpha1.ServiceType("ClusterIP")))
		Expect(got.Spec.Routing.Service.Ports[0].Protocol).To(Equal("TCP"))
		Expect(got.Spec.Routing.DNS.TTL).To(Equal(int64(30)))
	})

	It("fills in HTTP health check defaults", func() {
		obj := objectFromYAML(minimalGroup)
		remove("spec.healthCheck.tcp")(obj.Object)
		set("spec.healthCheck.http", map[string]any{"port": int64(8080)})(obj.Object)
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		var got v1alpha1.FailoverGroup
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &got)).To(Succeed())
		Expect(got.Spec.HealthCheck.HTTP.Path).To(Equal("/"))
		Expect(got.Spec.HealthCheck.HTTP.Scheme).To(Equal("HTTP"))
	})

	It("fills in BackupTarget defaults", func() {
		obj := objectFromYAML(minimalBackupTarget)
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		var got v1alpha1.BackupTarget
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &got)).To(Succeed())
		Expect(got.Spec.Retention).To(Equal(v1alpha1.NewDuration(48 * time.Hour)))
		Expect(got.Spec.Compression).To(Equal(ptr.To(true)))
		Expect(got.Spec.Checksum).To(Equal(ptr.To(true)))
	})

	It("keeps an explicit false in BackupTarget booleans", func() {
		obj := objectFromYAML(minimalBackupTarget)
		set("spec.compression", false)(obj.Object)
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		var got v1alpha1.BackupTarget
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &got)).To(Succeed())
		Expect(got.Spec.Compression).To(Equal(ptr.To(false)))
		Expect(got.Spec.Checksum).To(Equal(ptr.To(true)))
	})

	It("fills in RestoreSchedule defaults", func() {
		obj := objectFromYAML(minimalRestoreSchedule)
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		var got v1alpha1.RestoreSchedule
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &got)).To(Succeed())
		Expect(got.Spec.Interval.Duration).To(Equal(time.Minute))
		Expect(got.Spec.Offset.Duration).To(Equal(20 * time.Second))
		Expect(got.Spec.Mode).To(Equal(v1alpha1.RestoreStandby))
		Expect(got.Spec.Delay.Duration).To(Equal(time.Duration(0)))
		Expect(got.Spec.DisconnectUsers).To(Equal(ptr.To(true)))
	})
})
