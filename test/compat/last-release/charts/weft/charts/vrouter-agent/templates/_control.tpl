{{/* The gRPC address of each control replica's own Service. */}}
{{- define "vrouter-agent.controlUrls" -}}
{{- $urls := list -}}
{{- range $i := until (int .Values.global.control.replicas) -}}
{{- $urls = append $urls (printf "%s-control-%d.%s.svc:%d" $.Release.Name $i $.Release.Namespace (int $.Values.global.control.grpcPort)) -}}
{{- end -}}
{{- join "," $urls -}}
{{- end -}}
