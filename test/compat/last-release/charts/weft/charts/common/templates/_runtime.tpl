{{/*
What every daemon's container shares: the NATS URL, TLS material from a Secret, the probes
on /healthz and /readyz, and the security context of a non-root daemon.
*/}}

{{/* NATS servers: global.nats.url when given (an external NATS), else the release's own. */}}
{{- define "weft.natsUrl" -}}
{{- if .Values.global.nats.url -}}
{{- .Values.global.nats.url -}}
{{- else -}}
{{- $scheme := ternary "tls" "nats" .Values.global.tls.enabled -}}
{{- printf "%s://%s-nats.%s.svc:4222" $scheme .Release.Name .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* Environment every daemon takes (see services/kit: WEFT_LOG_LEVEL, WEFT_NATS_URL, TLS files). */}}
{{- define "weft.commonEnv" -}}
- name: WEFT_LOG_LEVEL
  value: {{ .Values.logLevel | default .Values.global.logLevel | quote }}
- name: WEFT_NATS_URL
  value: {{ include "weft.natsUrl" . | quote }}
- name: WEFT_STATE_DIR
  value: /var/lib/weft
{{- if .Values.global.tls.enabled }}
- name: WEFT_TLS_CERT
  value: /etc/weft/tls/tls.crt
- name: WEFT_TLS_KEY
  value: /etc/weft/tls/tls.key
- name: WEFT_TLS_CA
  value: /etc/weft/tls/ca.crt
{{- end }}
{{- range $name, $value := .Values.extraEnv }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* The TLS Secret, required by name when TLS is on: certificates never sit in values. */}}
{{- define "weft.tlsSecretName" -}}
{{- required "global.tls.secretName is required when global.tls.enabled is true: create a Secret with tls.crt, tls.key and ca.crt and name it here" .Values.global.tls.secretName -}}
{{- end -}}

{{- define "weft.tlsVolumeMount" -}}
{{- if .Values.global.tls.enabled }}
- name: tls
  mountPath: /etc/weft/tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "weft.tlsVolume" -}}
{{- if .Values.global.tls.enabled }}
- name: tls
  secret:
    secretName: {{ include "weft.tlsSecretName" . }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{/*
Probes on the daemon's HTTP port: liveness on /healthz (the process lives), readiness on
/readyz (its dependencies are reachable), a startup probe so a slow first start is not killed.
Call with (dict "port" "http" "root" $).
*/}}
{{- define "weft.probes" -}}
{{- $p := .root.Values.probes -}}
startupProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  periodSeconds: 2
  failureThreshold: {{ $p.startupFailureThreshold | default 30 }}
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  periodSeconds: {{ $p.periodSeconds | default 10 }}
  timeoutSeconds: {{ $p.timeoutSeconds | default 2 }}
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ .port }}
  periodSeconds: {{ $p.periodSeconds | default 10 }}
  timeoutSeconds: {{ $p.timeoutSeconds | default 2 }}
  failureThreshold: 3
{{- end -}}

{{/* A non-root daemon: no privilege, no capability, read-only root filesystem. */}}
{{- define "weft.restrictedSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "weft.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Scheduling values every workload takes. */}}
{{- define "weft.scheduling" -}}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* A PodDisruptionBudget for a workload: at most maxUnavailable pods evicted at once. */}}
{{- define "weft.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "weft.fullname" . }}
  labels:
    {{- include "weft.labels" . | nindent 4 }}
spec:
  {{- if .Values.podDisruptionBudget.minAvailable }}
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "weft.selectorLabels" . | nindent 6 }}
{{- end -}}
