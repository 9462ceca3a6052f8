// Command pause is the pod sandbox's process for the local test cluster (the role of
// registry.k8s.io/pause): it does nothing until it is told to stop. Static, no dependencies.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}
