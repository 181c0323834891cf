{{/*
Labels on every object but the CRDs (which stay as config/crd has them). The selectors use
app.kubernetes.io/name alone, as config/install/ferrolb.yaml does, so both install the same
objects.
*/}}
{{- define "ferrolb.labels" -}}
app.kubernetes.io/part-of: ferrolb
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* An image reference: the component's repository and tag, the tag defaulting to v<appVersion>. */}}
{{- define "ferrolb.image" -}}
{{- $tag := .image.tag | default (printf "v%s" .root.Chart.AppVersion) -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end }}

{{/* Arguments both programs take (log format, load balancer class), as a YAML list. */}}
{{- define "ferrolb.commonArgs" -}}
{{- $args := list -}}
{{- if eq .Values.log.format "json" }}{{ $args = append $args "--log-json" }}{{ end -}}
{{- with .Values.loadBalancerClass }}{{ $args = append $args (printf "--lb-class=%s" .) }}{{ end -}}
{{- if .Values.onlyLoadBalancerClass }}{{ $args = append $args "--only-lb-class" }}{{ end -}}
{{- toYaml $args -}}
{{- end }}

{{/* Egress to the Kubernetes API, for the NetworkPolicies. */}}
{{- define "ferrolb.apiServerEgress" -}}
- ports:
  {{- range .Values.networkPolicy.apiServerPorts }}
  - protocol: TCP
    port: {{ . }}
  {{- end }}
  {{- with .Values.networkPolicy.apiServerCIDRs }}
  to:
  {{- range . }}
  - ipBlock:
      cidr: {{ . }}
  {{- end }}
  {{- end }}
{{- end }}

{{/* Ingress to a metrics port ($port), for the NetworkPolicies. */}}
{{- define "ferrolb.metricsIngress" -}}
- ports:
  - protocol: TCP
    port: {{ .port }}
  {{- with .root.Values.networkPolicy.metricsFrom }}
  from:
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
