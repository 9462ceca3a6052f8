package controllers

import (
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
)

func seconds(s int32) time.Duration { return time.Duration(s) * time.Second }

// equalJSON compares API values semantically.
func equalJSON(a, b any) bool { return equality.Semantic.DeepEqual(a, b) }
