package controllers

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
)

// hasKind reports whether the API server serves a kind (an optional CRD such as DNSEndpoint).
func hasKind(mgr ctrl.Manager, gk schema.GroupKind, version string) bool {
	_, err := mgr.GetRESTMapper().RESTMapping(gk, version)
	return err == nil
}
