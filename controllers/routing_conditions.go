package controllers

import (
	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/failover"
)

// Annotations on Services the operator routes.
const (
	// AnnotationAdopt, set to "true" by the Service's owner, lets a FailoverGroup manage the selector
	// of a Service it did not create. The original selector is kept in AnnotationOriginalSelector and
	// put back when the group is deleted or stops naming the Service.
	AnnotationAdopt = "understudy.dev/adopt"
	// AnnotationOriginalSelector holds, as JSON, the selector an adopted Service had before.
	AnnotationOriginalSelector = "understudy.dev/original-selector"
)

// ConditionDNSPublished is v1alpha1.ConditionDNSPublished (kept for callers of this package); its
// reasons are v1alpha1.ReasonDNSPublished*.
const ConditionDNSPublished = v1alpha1.ConditionDNSPublished

// verdict is what the state machine needs from the routing result (nil when routing was not
// applied in this pass).
func (rr *routingResult) verdict() *failover.RoutingVerdict {
	if rr == nil {
		return nil
	}
	reason, msg := rr.notReady()
	return &failover.RoutingVerdict{NotReadyReason: reason, NotReadyMessage: msg, Notes: rr.messages()}
}

// notReady is the reason routing keeps the group from being Ready ("" when it does not), and its
// message: a conflict over a Service, DNSEndpoint or hostname first, then a routing spec that cannot
// be published, then DNS records ExternalDNS has not taken yet. Safe on a nil result.
func (rr *routingResult) notReady() (reason, msg string) {
	switch {
	case rr == nil:
		return "", ""
	case rr.conflict != "":
		return v1alpha1.ReasonReadyRoutingConflict, rr.conflict
	case rr.invalid != "":
		return v1alpha1.ReasonInvalidSpec, rr.invalid
	case rr.dnsPending != "":
		return v1alpha1.ReasonReadyDNSNotPublished, rr.dnsPending
	}
	return "", ""
}
