{{/*
The image of a Weft daemon: <registry>/<repository>:<tag>. The registry and tag come from the
subchart's image values, else from global.image; the tag defaults to the chart's appVersion,
so a chart release always deploys the images of its own version.
*/}}
{{- define "weft.image" -}}
{{- $registry := .Values.image.registry | default .Values.global.image.registry -}}
{{- $tag := .Values.image.tag | default .Values.global.image.tag | default .Chart.AppVersion -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry .Values.image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "weft.imagePullPolicy" -}}
{{- .Values.image.pullPolicy | default .Values.global.image.pullPolicy -}}
{{- end -}}

{{- define "weft.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}
