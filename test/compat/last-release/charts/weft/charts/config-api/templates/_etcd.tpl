{{/* etcd client URLs: the release's own members, or the endpoints given. */}}
{{- define "config-api.etcdEndpoints" -}}
{{- if .Values.store.etcd.deploy -}}
{{- $name := printf "%s-etcd" (include "weft.fullname" .) -}}
{{- $scheme := ternary "https" "http" .Values.global.tls.enabled -}}
{{- $urls := list -}}
{{- range $i := until (int .Values.store.etcd.members) -}}
{{- $urls = append $urls (printf "%s://%s-%d.%s.%s.svc:2379" $scheme $name $i $name $.Release.Namespace) -}}
{{- end -}}
{{- join "," $urls -}}
{{- else -}}
{{- required "config-api.store.etcd.endpoints is required when store.etcd.deploy is false: list your etcd client URLs" (join "," .Values.store.etcd.endpoints | default nil) -}}
{{- end -}}
{{- end -}}
