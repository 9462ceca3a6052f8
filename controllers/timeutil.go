package controllers

import "time"

func seconds(s int32) time.Duration { return time.Duration(s) * time.Second }
