package envtest_test

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

var nameCounter atomic.Int64

// objectFromYAML decodes one manifest and gives it a unique name in namespace "default".
func objectFromYAML(manifest string) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{}
	Expect(yaml.Unmarshal([]byte(manifest), &obj.Object)).To(Succeed(), manifest)
	obj.SetNamespace("default")
	obj.SetName(fmt.Sprintf("%s-%d", strings.ToLower(obj.GetKind()), nameCounter.Add(1)))
	return obj
}

// objectsFromFile decodes every document of a YAML file.
func objectsFromFile(path string) []*unstructured.Unstructured {
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split(string(data), "\n---") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		obj := &unstructured.Unstructured{}
		Expect(yaml.Unmarshal([]byte(doc), &obj.Object)).To(Succeed(), path)
		if obj.Object == nil {
			continue
		}
		out = append(out, obj)
	}
	return out
}

// minimalGroup is a valid FailoverGroup that tests modify.
const minimalGroup = `
apiVersion: understudy.dev/v1alpha1
kind: FailoverGroup
spec:
  members:
    - {name: a, priority: 100, address: {host: 10.0.0.1, port: 8080}}
    - {name: b, priority: 50, address: {host: 10.0.0.2, port: 8080}}
  healthCheck:
    tcp: {}
`

// minimalSQLGroup is a valid SQL Server FailoverGroup that tests modify.
const minimalSQLGroup = `
apiVersion: understudy.dev/v1alpha1
kind: FailoverGroup
spec:
  members:
    - {name: ds1, priority: 100, podSelector: {matchLabels: {app: ds1}}}
    - {name: ds2, priority: 50, podSelector: {matchLabels: {app: ds2}}}
  healthCheck:
    sqlServer: {}
  sqlServer:
    credentialsSecretRef: {name: sql}
    databases: [Sales]
  logShipping:
    backupTargetRef: {name: backups}
`
