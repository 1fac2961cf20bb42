// Loading a chart directory: Chart.yaml, values.yaml, values.schema.json, templates/ and the
// charts it depends on (from its charts/ folder, or a file:// repository as `helm dependency
// build` would copy it there).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Dependency is one entry of Chart.yaml's dependencies.
type Dependency struct {
	Name       string `json:"name"`
	Version    string `json:"version,omitempty"`
	Repository string `json:"repository,omitempty"`
	Condition  string `json:"condition,omitempty"`
	Alias      string `json:"alias,omitempty"`
}

// Metadata is Chart.yaml; templates see it as .Chart with helm's field names.
type Metadata struct {
	APIVersion   string            `json:"apiVersion"`
	Name         string            `json:"name"`
	Version      string            `json:"version"`
	AppVersion   string            `json:"appVersion,omitempty"`
	Description  string            `json:"description,omitempty"`
	Type         string            `json:"type,omitempty"`
	KubeVersion  string            `json:"kubeVersion,omitempty"`
	Home         string            `json:"home,omitempty"`
	Sources      []string          `json:"sources,omitempty"`
	Keywords     []string          `json:"keywords,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Dependencies []Dependency      `json:"dependencies,omitempty"`
}

// Chart is a loaded chart and its loaded dependencies.
type Chart struct {
	Meta      Metadata
	Dir       string
	Path      string // the chart's path in template names: weft, weft/charts/control, …
	Values    map[string]interface{}
	Schema    []byte // values.schema.json, when the chart has one
	Templates []Template
	Deps      []*ChartDep
}

// ChartDep is a dependency with the key its values live under and its condition.
type ChartDep struct {
	Key       string
	Condition string
	Chart     *Chart
}

// Template is one file under templates/.
type Template struct {
	Name string // chart path + "/templates/" + relative name
	Text string
}

func loadChart(dir string, parentPath string) (*Chart, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, fmt.Errorf("%s is not a chart: %w", dir, err)
	}
	var meta Metadata
	if err := yaml.Unmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("%s/Chart.yaml: %w", dir, err)
	}
	if meta.Name == "" || meta.Version == "" {
		return nil, fmt.Errorf("%s/Chart.yaml: name and version are required", dir)
	}
	chart := &Chart{Meta: meta, Dir: dir, Path: meta.Name, Values: map[string]interface{}{}}
	if parentPath != "" {
		chart.Path = parentPath + "/charts/" + meta.Name
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "values.yaml")); err == nil {
		if err := yaml.Unmarshal(raw, &chart.Values); err != nil {
			return nil, fmt.Errorf("%s/values.yaml: %w", dir, err)
		}
		if chart.Values == nil {
			chart.Values = map[string]interface{}{}
		}
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "values.schema.json")); err == nil {
		chart.Schema = raw
	}
	templatesDir := filepath.Join(dir, "templates")
	err = filepath.Walk(templatesDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(templatesDir, path)
		chart.Templates = append(chart.Templates, Template{
			Name: chart.Path + "/templates/" + filepath.ToSlash(rel),
			Text: string(text),
		})
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	sort.Slice(chart.Templates, func(i, j int) bool { return chart.Templates[i].Name < chart.Templates[j].Name })
	for _, dep := range meta.Dependencies {
		depDir := filepath.Join(dir, "charts", dep.Name)
		if _, err := os.Stat(filepath.Join(depDir, "Chart.yaml")); err != nil {
			if !strings.HasPrefix(dep.Repository, "file://") {
				return nil, fmt.Errorf("%s: dependency %q is not in charts/ and has no file:// repository", dir, dep.Name)
			}
			depDir = filepath.Join(dir, strings.TrimPrefix(dep.Repository, "file://"))
		}
		sub, err := loadChart(depDir, chart.Path)
		if err != nil {
			return nil, err
		}
		key := dep.Name
		if dep.Alias != "" {
			key = dep.Alias
		}
		chart.Deps = append(chart.Deps, &ChartDep{Key: key, Condition: dep.Condition, Chart: sub})
	}
	return chart, nil
}
