//go:build e2e

package e2e

import (
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// restrictedNamespaceLabels make PodSecurity admission refuse pods that do not pass the restricted
// Pod Security Standard. Only the operator's namespace carries them: the SQL scenario's namespace
// (where prune Jobs would run) holds mssqlsim members on hostPath volumes, which
// even the baseline profile refuses; the prune Job's pod is checked against the restricted profile
// by controllers' unit test instead (the suite's BackupTarget has no volumeClaimName, so no Job).
var restrictedNamespaceLabels = map[string]string{
	"pod-security.kubernetes.io/enforce": "restricted",
	"pod-security.kubernetes.io/warn":    "restricted",
	"pod-security.kubernetes.io/audit":   "restricted",
}

// createOperatorNamespace creates the release namespace, enforcing the restricted Pod Security
// Standard, before `helm install` (which would create it without labels): the operator's pods
// must pass the profile or never start.
func createOperatorNamespace() error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace, Labels: restrictedNamespaceLabels}}
	err := k8sClient.Create(ctx, ns)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: operatorNamespace}, ns); err != nil {
		return err
	}
	patch := client.MergeFrom(ns.DeepCopy())
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	for k, v := range restrictedNamespaceLabels {
		ns.Labels[k] = v
	}
	return k8sClient.Patch(ctx, ns, patch)
}
