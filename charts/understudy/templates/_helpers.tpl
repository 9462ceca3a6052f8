{{/* Chart name, truncated to 63 characters (a label value's limit). */}}
{{- define "understudy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name prefix of every resource: fullnameOverride, else the release name when it already contains
the chart name, else <release>-<chart>. Truncated to 52 characters so suffixes like
"-leader-election" still fit in 63.
*/}}
{{- define "understudy.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* helm.sh/chart label value. */}}
{{- define "understudy.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels selecting the operator pods; never change them (Deployment selectors are immutable). */}}
{{- define "understudy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "understudy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end }}

{{/* Labels of every resource. */}}
{{- define "understudy.labels" -}}
helm.sh/chart: {{ include "understudy.chart" . }}
app.kubernetes.io/name: {{ include "understudy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: understudy
{{- end }}

{{/* Name of the ServiceAccount the operator runs as. */}}
{{- define "understudy.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "understudy.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The operator's RBAC rules: files/manager-rules.yaml, which `make manifests` copies from the generated
config/rbac/role.yaml (kubebuilder markers in controllers/), so the chart never drifts from the code.
*/}}
{{- define "understudy.managerRules" -}}
{{- $rules := (.Files.Get "files/manager-rules.yaml" | fromYaml).rules }}
{{- if not $rules }}
{{- fail "files/manager-rules.yaml has no rules; run 'make manifests'" }}
{{- end }}
{{- toYaml $rules }}
{{- end }}

{{/* The metrics container port: 8443 for HTTPS (metrics.secure), 8080 for plain HTTP. */}}
{{- define "understudy.metricsContainerPort" -}}
{{- if .Values.metrics.secure }}8443{{ else }}8080{{ end }}
{{- end }}
