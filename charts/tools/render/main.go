// weft-chart-render renders a Helm chart the way `helm template` does, without helm: Go's
// text/template with the sprig functions (the engine helm is built on), helm's own template
// functions (include, tpl, required, toYaml, fromYaml, toJson, fromJson, lookup), values.yaml
// coalesced with -f files and --set overrides, subcharts scoped to their own values plus
// .Values.global, dependency conditions, file:// dependencies, and each chart's
// values.schema.json checked against its values before anything renders.
//
// Build and run (Debian: golang-go, golang-github-masterminds-sprig-dev,
// golang-k8s-sigs-yaml-dev, golang-github-xeipuuv-gojsonschema-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o weft-chart-render ./charts/tools/render
//	weft-chart-render [-f values.yaml]... [--set a.b=c]... [--name NAME] [--namespace NS] \
//	    [--output yaml|json] [--notes] CHART_DIR
//
// Output: the manifests as one YAML stream with "# Source:" comments (as helm template prints
// them), or with --output json one JSON document {"manifests": [{"source", "object"}], "notes"}.
// Errors (bad values, a failed `required`, a template error) go to stderr with exit code 1.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var valueFiles, sets stringList
	name := flag.String("name", "weft", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	output := flag.String("output", "yaml", "yaml (a manifest stream, as helm template) or json")
	notes := flag.Bool("notes", false, "also print the rendered NOTES.txt (yaml output)")
	kubeVersion := flag.String("kube-version", "1.29.0", "Kubernetes version for .Capabilities")
	flag.Var(&valueFiles, "f", "values file (repeatable; later files win)")
	flag.Var(&valueFiles, "values", "values file (same as -f)")
	flag.Var(&sets, "set", "a value on the command line, a.b.c=value (repeatable; wins over files)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: weft-chart-render [-f values.yaml]... [--set a.b=c]... [--output yaml|json] CHART_DIR")
		os.Exit(2)
	}
	overrides, err := readOverrides(valueFiles, sets)
	if err != nil {
		fail(err)
	}
	chart, err := loadChart(flag.Arg(0), "")
	if err != nil {
		fail(err)
	}
	release := Release{Name: *name, Namespace: *namespace, Service: "Helm", IsInstall: true, Revision: 1}
	result, err := render(chart, overrides, release, newCapabilities(*kubeVersion))
	if err != nil {
		fail(err)
	}
	switch *output {
	case "yaml":
		os.Stdout.WriteString(result.yamlStream(*notes))
	case "json":
		text, err := result.json()
		if err != nil {
			fail(err)
		}
		os.Stdout.Write(text)
	default:
		fail(fmt.Errorf("--output must be yaml or json, not %q", *output))
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "Error: %s\n", err)
	os.Exit(1)
}
