// Values: files and --set overrides coalesced over values.yaml as helm does (overrides win,
// maps merge deeply, null deletes a default), scoped per subchart with .Values.global shared,
// and checked against each chart's values.schema.json.
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/xeipuuv/gojsonschema"
	"sigs.k8s.io/yaml"
)

func readOverrides(files []string, sets []string) (map[string]interface{}, error) {
	result := map[string]interface{}{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var values map[string]interface{}
		if err := yaml.Unmarshal(raw, &values); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		result = overlay(result, values, false)
	}
	for _, set := range sets {
		key, value, found := strings.Cut(set, "=")
		if !found || key == "" {
			return nil, fmt.Errorf("--set %q: expected key.path=value", set)
		}
		path := strings.Split(key, ".")
		leaf := map[string]interface{}{path[len(path)-1]: parseScalar(value)}
		for i := len(path) - 2; i >= 0; i-- {
			leaf = map[string]interface{}{path[i]: leaf}
		}
		result = overlay(result, leaf, false)
	}
	return result, nil
}

// parseScalar reads a --set value as helm does: booleans, integers and null keep their type.
func parseScalar(value string) interface{} {
	switch value {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if n, err := strconv.ParseInt(value, 10, 64); err == nil {
		return n
	}
	return value
}

// overlay returns base with top laid over it. With deleteNulls, a null in top removes the key
// (the final coalesce onto defaults); between override files a null is kept so it still
// deletes the default later.
func overlay(base, top map[string]interface{}, deleteNulls bool) map[string]interface{} {
	out := make(map[string]interface{}, len(base)+len(top))
	for k, v := range base {
		out[k] = deepCopy(v)
	}
	for k, v := range top {
		if v == nil && deleteNulls {
			delete(out, k)
			continue
		}
		topMap, topIsMap := v.(map[string]interface{})
		baseMap, baseIsMap := out[k].(map[string]interface{})
		if topIsMap && baseIsMap {
			out[k] = overlay(baseMap, topMap, deleteNulls)
		} else {
			out[k] = deepCopy(v)
		}
	}
	return out
}

func deepCopy(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		out := make(map[string]interface{}, len(t))
		for k, e := range t {
			out[k] = deepCopy(e)
		}
		return out
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// scopedChart is a chart that renders, with the values its templates see as .Values.
type scopedChart struct {
	chart  *Chart
	values map[string]interface{}
	prefix string // where its values sit in the top chart's values: "config-api", or "" for the top
}

// scope coalesces values down the dependency tree: each enabled subchart gets its own defaults
// overlaid with what its parent sets under its key, and the parent's global. Disabled
// subcharts (condition false) are left out, as helm leaves them out.
func scope(chart *Chart, values map[string]interface{}, prefix string) []scopedChart {
	result := []scopedChart{{chart: chart, values: values, prefix: prefix}}
	for _, dep := range chart.Deps {
		if !conditionHolds(values, dep.Condition) {
			continue // its values stay, unused, as in helm
		}
		given, _ := values[dep.Key].(map[string]interface{})
		sub := overlay(dep.Chart.Values, given, true)
		parentGlobal, _ := values["global"].(map[string]interface{})
		subGlobal, _ := sub["global"].(map[string]interface{})
		sub["global"] = overlay(subGlobal, parentGlobal, true)
		values[dep.Key] = sub
		result = append(result, scope(dep.Chart, sub, join(prefix, dep.Key))...)
	}
	return result
}

// conditionHolds reads a dependency's condition (a dotted path into the parent's values);
// helm enables the dependency when the path is absent or not a boolean.
func conditionHolds(values map[string]interface{}, condition string) bool {
	if condition == "" {
		return true
	}
	for _, path := range strings.Split(condition, ",") {
		var cursor interface{} = values
		for _, part := range strings.Split(strings.TrimSpace(path), ".") {
			m, ok := cursor.(map[string]interface{})
			if !ok {
				cursor = nil
				break
			}
			cursor = m[part]
		}
		if b, ok := cursor.(bool); ok {
			return b
		}
	}
	return true
}

// validateValues checks every chart's values against its values.schema.json and reports every
// violation at once, in helm's words and shape.
func validateValues(charts []scopedChart) error {
	var report strings.Builder
	for _, sc := range charts {
		if sc.chart.Schema == nil {
			continue
		}
		schema := gojsonschema.NewBytesLoader(sc.chart.Schema)
		result, err := gojsonschema.Validate(schema, gojsonschema.NewGoLoader(sc.values))
		if err != nil {
			return fmt.Errorf("%s/values.schema.json: %w", sc.chart.Dir, err)
		}
		if result.Valid() {
			continue
		}
		lines := []string{}
		for _, e := range result.Errors() {
			// "Must validate then as if was valid" only repeats the specific errors it comes with.
			if e.Type() == "condition_then" || e.Type() == "condition_else" {
				continue
			}
			// Fields are named as the user writes them in the top chart's values.
			field := e.Field()
			if field == "(root)" {
				field = sc.prefix
				if field == "" {
					field = "(root)"
				}
			} else {
				field = join(sc.prefix, field)
			}
			lines = append(lines, fmt.Sprintf("- %s: %s", field, e.Description()))
		}
		sort.Strings(lines)
		fmt.Fprintf(&report, "%s:\n%s\n", sc.chart.Path, strings.Join(lines, "\n"))
	}
	if report.Len() > 0 {
		return fmt.Errorf("values don't meet the specifications of the schema(s) in the following chart(s):\n%s", report.String())
	}
	return nil
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}
