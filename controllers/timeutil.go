package controllers

import (
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
)

func seconds(s int32) time.Duration { return time.Duration(s) * time.Second }

// equalJSON compares API values semantically.
func equalJSON(a, b any) bool { return equality.Semantic.DeepEqual(a, b) }

// requeueSoon looks at a group again right after a write that lost a race or moved a failover on
// (ctrl.Result.Requeue is deprecated): long enough for the cache to see our own write.
const requeueSoon = 20 * time.Millisecond
