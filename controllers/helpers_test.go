package controllers_test

import (
	"fmt"
	"k8s.io/client-go/util/retry"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

var nsCounter atomic.Int64

// newNamespace creates a namespace for one test.
func newNamespace() string {
	name := fmt.Sprintf("t%d", nsCounter.Add(1))
	Expect(k8sClient.Create(suiteCtx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	return name
}

// memberServer is a TCP listener standing in for a member: it accepts and closes connections.
type memberServer struct {
	mu   sync.Mutex
	addr string
	ln   net.Listener
}

func newMemberServer(host string) *memberServer {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	Expect(err).NotTo(HaveOccurred())
	s := &memberServer{addr: ln.Addr().String()}
	s.serve(ln)
	return s
}

// newMemberServerAt listens on a given address (pods of different members share a port on
// different loopback IPs).
func newMemberServerAt(addr string) *memberServer {
	s := &memberServer{addr: addr}
	s.Start()
	return s
}

func (s *memberServer) serve(ln net.Listener) {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
}

// Stop closes the listener: probes fail with "connection refused", as when a server dies.
func (s *memberServer) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		_ = s.ln.Close()
		s.ln = nil
	}
}

// Start listens again on the same address.
func (s *memberServer) Start() {
	var ln net.Listener
	Eventually(func() error {
		var err error
		ln, err = net.Listen("tcp", s.addr)
		return err
	}).Should(Succeed())
	s.serve(ln)
}

func (s *memberServer) Port() int32 {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return int32(n)
}

func (s *memberServer) Host() string {
	h, _, _ := net.SplitHostPort(s.addr)
	return h
}

// groupOf builds a TCP group with fast timing: detection 2 s, Lease 3 s.
func groupOf(ns, name string, members ...v1alpha1.Member) *v1alpha1.FailoverGroup {
	return &v1alpha1.FailoverGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.FailoverGroupSpec{
			Members: members,
			HealthCheck: v1alpha1.HealthCheck{TCP: &v1alpha1.TCPHealthCheck{},
				PeriodSeconds: 1, TimeoutSeconds: 1, FailureThreshold: 2, SuccessThreshold: 1},
			Failover: v1alpha1.FailoverPolicy{LeaseDurationSeconds: 3},
			Routing: &v1alpha1.Routing{Service: &v1alpha1.RoutedService{Name: name,
				Ports: []v1alpha1.ServicePort{{Name: "tcp", Port: 80, TargetPort: 8080}}}},
		},
	}
}

// memberAt is a member probed at a server, with pods labelled app=<group>, member=<name>.
func memberAt(name string, priority int32, s *memberServer) v1alpha1.Member {
	return v1alpha1.Member{Name: name, Priority: priority,
		Address:     &v1alpha1.MemberAddress{Host: s.Host(), Port: s.Port()},
		PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"member": name}},
		DNSTarget:   name + ".example.com"}
}

func getGroup(ns, name string) *v1alpha1.FailoverGroup {
	var g v1alpha1.FailoverGroup
	Expect(k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: name}, &g)).To(Succeed())
	return &g
}

// activeOf is the group's Lease holder ("" when none).
func activeOf(ns, name string) string {
	var l coordinationv1.Lease
	if err := k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: name}, &l); err != nil {
		return ""
	}
	return ptr.Deref(l.Spec.HolderIdentity, "")
}

func leaseOf(ns, name string) *coordinationv1.Lease {
	var l coordinationv1.Lease
	Expect(k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: name}, &l)).To(Succeed())
	return &l
}

// selectorOf is the routed Service's selector.
func selectorOf(ns, name string) map[string]string {
	var svc corev1.Service
	if err := k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: name}, &svc); err != nil {
		return nil
	}
	return svc.Spec.Selector
}

func conditionOf(ns, name, condType string) *metav1.Condition {
	return meta.FindStatusCondition(getGroup(ns, name).Status.Conditions, condType)
}

// createPod creates a Ready pod (no kubelet in envtest: the test writes its status).
func createPod(ns, name, ip string, labels map[string]string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example"}}}}
	Expect(k8sClient.Create(suiteCtx, p)).To(Succeed())
	p.Status.PodIP = ip
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	Expect(k8sClient.Status().Update(suiteCtx, p)).To(Succeed())
	return p
}

func podLabels(ns, name string) map[string]string {
	var p corev1.Pod
	Expect(k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: name}, &p)).To(Succeed())
	return p.Labels
}

// updateGroup changes a group's spec or metadata, retrying on conflicts with the operator's writes.
func updateGroup(ns, name string, change func(g *v1alpha1.FailoverGroup)) {
	Expect(retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		g := getGroup(ns, name)
		change(g)
		return k8sClient.Update(suiteCtx, g)
	})).To(Succeed())
}

func itoa(n int) string { return strconv.Itoa(n) }

// deletePod deletes a pod (no kubelet in envtest: an unscheduled pod goes at once).
func deletePod(ns, name string) {
	Expect(k8sClient.Delete(suiteCtx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})).To(Succeed())
}
