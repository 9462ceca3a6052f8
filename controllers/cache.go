package controllers

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/understudy-dev/understudy/internal/lease"
)

// CacheOptions limits the manager's cache: the given namespaces (nil: all), and among Leases only
// the groups' own (a cluster has a Lease per node, which the operator never needs).
func CacheOptions(namespaces map[string]cache.Config) cache.Options {
	hasGroup, err := labels.NewRequirement(lease.LabelGroup, selection.Exists, nil)
	if err != nil {
		panic(err)
	}
	return cache.Options{
		DefaultNamespaces: namespaces,
		ByObject: map[client.Object]cache.ByObject{
			&coordinationv1.Lease{}: {Label: labels.NewSelector().Add(*hasGroup)},
		},
	}
}
