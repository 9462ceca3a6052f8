package routing

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// ServicePorts converts the spec's ports to Service ports (targetPort defaults to port).
func ServicePorts(ports []v1alpha1.ServicePort) []corev1.ServicePort {
	out := make([]corev1.ServicePort, 0, len(ports))
	for _, p := range ports {
		target := p.TargetPort
		if target == 0 {
			target = p.Port
		}
		proto := corev1.Protocol(p.Protocol)
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		out = append(out, corev1.ServicePort{Name: p.Name, Port: p.Port, TargetPort: intstr.FromInt32(target), Protocol: proto})
	}
	return out
}
