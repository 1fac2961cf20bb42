{{/*
Authentication of config-api, analytics and the agents' introspection (WEFT_AUTH_*), and
control's token for config-api.
Tokens never sit in values: global.auth.secretName names a Secret you create with keys
tokens.json (the tokens file: {"tokens": [{token, user, roles, projects}]}), control.token
(a token of that file with the reader or cloud-admin role, for control) and, with kube-manager,
kube-manager.token (a cloud-admin token: it writes every namespace's project).
*/}}
{{- define "weft.authEnv" -}}
- name: WEFT_AUTH_MODE
  value: {{ .Values.global.auth.mode | quote }}
{{- with .Values.global.auth.jwks }}
{{- if .url }}
- name: WEFT_AUTH_JWKS
  value: {{ .url | quote }}
- name: WEFT_AUTH_JWT_ISSUER
  value: {{ required "global.auth.jwks.issuer is required with global.auth.jwks.url" .issuer | quote }}
- name: WEFT_AUTH_JWT_AUDIENCE
  value: {{ .audience | default "weft" | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The tokens file, where the daemon looks for it by default: <state dir>/tokens.json. */}}
{{- define "weft.authVolumeMount" -}}
{{- if .Values.global.auth.secretName }}
- name: auth
  mountPath: /var/lib/weft/tokens.json
  subPath: tokens.json
  readOnly: true
{{- end }}
{{- end -}}

{{- define "weft.authVolume" -}}
{{- if .Values.global.auth.secretName }}
- name: auth
  secret:
    secretName: {{ .Values.global.auth.secretName }}
    defaultMode: 0400
{{- end }}
{{- end -}}

{{/*
A client's token for config-api, from the Secret: control's (key control.token) by default,
kube-manager's with (dict "root" . "key" "kube-manager.token").
*/}}
{{- define "weft.configApiTokenEnv" -}}
{{- $root := .root | default . -}}
{{- if $root.Values.global.auth.secretName }}
- name: WEFT_CONFIG_API_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ $root.Values.global.auth.secretName }}, key: {{ .key | default "control.token" }}}
{{- end }}
{{- end -}}
