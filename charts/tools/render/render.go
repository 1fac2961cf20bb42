// The template engine: every template of every enabled chart parsed into one set (so a define
// is visible to all, as in helm), each non-partial template executed with its own chart's
// values, the output split into manifests and put in helm's install order.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

// Release is .Release.
type Release struct {
	Name      string
	Namespace string
	Service   string
	IsInstall bool
	IsUpgrade bool
	Revision  int
}

// KubeVersion is .Capabilities.KubeVersion.
type KubeVersion struct {
	Version    string
	Major      string
	Minor      string
	GitVersion string
}

// VersionSet is .Capabilities.APIVersions.
type VersionSet []string

// Has says whether an API group/version (or group/version/kind) is served.
func (v VersionSet) Has(apiVersion string) bool {
	for _, known := range v {
		if known == apiVersion {
			return true
		}
	}
	return false
}

// Capabilities is .Capabilities: what helm would learn from the cluster, fixed here.
type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
}

func newCapabilities(version string) Capabilities {
	parts := strings.SplitN(version, ".", 3)
	minor := ""
	if len(parts) > 1 {
		minor = parts[1]
	}
	return Capabilities{
		KubeVersion: KubeVersion{Version: "v" + version, Major: parts[0], Minor: minor, GitVersion: "v" + version},
		APIVersions: VersionSet{
			"v1", "apps/v1", "batch/v1", "policy/v1", "rbac.authorization.k8s.io/v1",
			"networking.k8s.io/v1", "storage.k8s.io/v1", "autoscaling/v2",
		},
	}
}

// Files is .Files: files of the chart, read by path relative to the chart's folder.
type Files struct{ dir string }

// Get returns a file's contents, or "" when it does not exist (as helm does).
func (f Files) Get(name string) string {
	raw, err := os.ReadFile(filepath.Join(f.dir, filepath.FromSlash(name)))
	if err != nil {
		return ""
	}
	return string(raw)
}

// Manifest is one rendered Kubernetes object.
type Manifest struct {
	Source string                 `json:"source"`
	Text   string                 `json:"-"`
	Object map[string]interface{} `json:"object"`
}

// Result is what a render produces.
type Result struct {
	Manifests []Manifest
	Notes     string
}

const recursionLimit = 1000

func render(top *Chart, overrides map[string]interface{}, release Release, caps Capabilities) (*Result, error) {
	values := overlay(top.Values, overrides, true)
	charts := scope(top, values, "")
	if err := validateValues(charts); err != nil {
		return nil, err
	}

	root := template.New("gotpl")
	root.Option("missingkey=zero")
	depth := map[string]int{}
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYaml
	funcs["fromYaml"] = fromYaml
	funcs["toJson"] = toJSON
	funcs["fromJson"] = fromJSON
	funcs["required"] = required
	funcs["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil // no cluster: as `helm template` answers
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		depth[name]++
		defer func() { depth[name]-- }()
		if depth[name] > recursionLimit {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		var out bytes.Buffer
		if err := root.ExecuteTemplate(&out, name, data); err != nil {
			return "", err
		}
		return out.String(), nil
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", fmt.Errorf("tpl: %w", err)
		}
		var out bytes.Buffer
		if err := t.Execute(&out, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(out.String(), "<no value>", ""), nil
	}
	root.Funcs(funcs)

	for _, sc := range charts {
		for _, tmpl := range sc.chart.Templates {
			if _, err := root.New(tmpl.Name).Parse(tmpl.Text); err != nil {
				return nil, fmt.Errorf("parse error in %s", strings.TrimPrefix(err.Error(), "template: "))
			}
		}
	}

	result := &Result{}
	for _, sc := range charts {
		if sc.chart.Meta.Type == "library" {
			continue
		}
		for _, tmpl := range sc.chart.Templates {
			base := path.Base(tmpl.Name)
			if strings.HasPrefix(base, "_") {
				continue
			}
			isNotes := base == "NOTES.txt"
			if isNotes && sc.chart != top {
				continue // helm shows only the top chart's notes
			}
			data := map[string]interface{}{
				"Values":       sc.values,
				"Chart":        &sc.chart.Meta,
				"Release":      release,
				"Capabilities": caps,
				"Files":        Files{dir: sc.chart.Dir},
				"Template":     map[string]interface{}{"Name": tmpl.Name, "BasePath": sc.chart.Path + "/templates"},
			}
			var out bytes.Buffer
			if err := root.ExecuteTemplate(&out, tmpl.Name, data); err != nil {
				return nil, cleanExecError(err)
			}
			text := strings.ReplaceAll(out.String(), "<no value>", "")
			if isNotes {
				result.Notes = text
				continue
			}
			manifests, err := splitManifests(tmpl.Name, text)
			if err != nil {
				return nil, err
			}
			result.Manifests = append(result.Manifests, manifests...)
		}
	}
	sortByInstallOrder(result.Manifests)
	return result, nil
}

var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

func splitManifests(source string, text string) ([]Manifest, error) {
	var manifests []Manifest
	for _, doc := range documentSeparator.Split(text, -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var object map[string]interface{}
		if err := yaml.Unmarshal([]byte(doc), &object); err != nil {
			return nil, fmt.Errorf("YAML parse error in %s: %w\n%s", source, err, numbered(doc))
		}
		if object == nil {
			continue // only comments
		}
		if object["kind"] == nil || object["apiVersion"] == nil {
			return nil, fmt.Errorf("%s: a manifest without kind or apiVersion:\n%s", source, numbered(doc))
		}
		manifests = append(manifests, Manifest{Source: source, Text: strings.Trim(doc, "\n"), Object: object})
	}
	return manifests, nil
}

func numbered(doc string) string {
	lines := strings.Split(doc, "\n")
	for i := range lines {
		lines[i] = fmt.Sprintf("%4d  %s", i+1, lines[i])
	}
	return strings.Join(lines, "\n")
}

// helm's InstallOrder: what others depend on comes first.
var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
	"ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
	"RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
}

func sortByInstallOrder(manifests []Manifest) {
	rank := func(m Manifest) int {
		kind, _ := m.Object["kind"].(string)
		for i, k := range installOrder {
			if k == kind {
				return i
			}
		}
		return len(installOrder)
	}
	sort.SliceStable(manifests, func(i, j int) bool { return rank(manifests[i]) < rank(manifests[j]) })
}

func (r *Result) yamlStream(withNotes bool) string {
	var out strings.Builder
	for _, m := range r.Manifests {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", m.Source, m.Text)
	}
	if withNotes && r.Notes != "" {
		fmt.Fprintf(&out, "\nNOTES:\n%s\n", r.Notes)
	}
	return out.String()
}

func (r *Result) json() ([]byte, error) {
	manifests := r.Manifests
	if manifests == nil {
		manifests = []Manifest{}
	}
	return json.MarshalIndent(map[string]interface{}{"manifests": manifests, "notes": r.Notes}, "", "  ")
}

// helm's template functions beyond sprig.

func toYaml(v interface{}) string {
	out, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(out), "\n")
}

func fromYaml(text string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(text), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func toJSON(v interface{}) string {
	out, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(out)
}

func fromJSON(text string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func required(message string, v interface{}) (interface{}, error) {
	if v == nil {
		return v, fmt.Errorf(message)
	}
	if s, ok := v.(string); ok && s == "" {
		return v, fmt.Errorf(message)
	}
	return v, nil
}

var execError = regexp.MustCompile(`template: (\S+?):(\d+):(\d+): executing .* error calling (required|fail): (.*)$`)

// cleanExecError turns a failed `required` or `fail` into helm's one-line message.
func cleanExecError(err error) error {
	if m := execError.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("execution error at (%s:%s:%s): %s", m[1], m[2], m[3], m[5])
	}
	return err
}
