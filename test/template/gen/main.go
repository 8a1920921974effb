// Command gen renders the template conformance cases in test/template/cases
// with Go's own text/template and writes the golden files next to them.
//
// It uses only the standard library, so Debian's golang-go can run it offline:
//
//	go run ./test/template/gen -cases test/template/cases -out test/template/cases
//
// Each <topic>.json holds an array of cases; gen writes <topic>.golden.json
// with Go's output (and partial output plus the exact error text on failure).
// Cases whose "minGo" is newer than the running Go are skipped; their
// expectations are written by hand in the case ("expect").
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Case is one conformance case. Only tmpl is required.
type Case struct {
	Name       string            `json:"name"`
	Tmpl       string            `json:"tmpl"`
	Data       json.RawMessage   `json:"data,omitempty"`
	TplName    string            `json:"tplName,omitempty"`    // root template name, default "tpl"
	MissingKey string            `json:"missingkey,omitempty"` // option missingkey=...
	Delims     []string          `json:"delims,omitempty"`     // [left, right]
	Defs       map[string]string `json:"defs,omitempty"`       // associated templates, parsed with New(name)
	Reparse    []string          `json:"reparse,omitempty"`    // more texts passed to Parse on the root
	Exec       string            `json:"exec,omitempty"`       // ExecuteTemplate name instead of Execute
	Mode       string            `json:"mode,omitempty"`       // "tree": print Tree.Root.String() instead of executing
	Floats     bool              `json:"floats,omitempty"`     // every JSON number is a float64 (encoding/json default)
	Funcs      bool              `json:"funcs,omitempty"`      // install the test funcs
	Fixture    string            `json:"fixture,omitempty"`    // "structs": data is structFixture() instead of JSON
	MinGo      string            `json:"minGo,omitempty"`      // skip on older Go
	Expect     json.RawMessage   `json:"expect,omitempty"`     // hand-verified result for minGo cases
}

// Result is what Go did.
type Result struct {
	Out string `json:"out"`
	Err string `json:"err,omitempty"`
	// Phase is "parse" or "exec" when Err is set.
	Phase string `json:"phase,omitempty"`
}

// Golden is one golden file.
type Golden struct {
	Go      string             `json:"go"`
	Results map[string]*Result `json:"results"`
}

func convertNumbers(v interface{}, floats bool) interface{} {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if floats || strings.ContainsAny(s, ".eE") {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				panic(err)
			}
			return f
		}
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return int(i)
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u
		}
		f, _ := strconv.ParseFloat(s, 64)
		return f
	case map[string]interface{}:
		for k, e := range x {
			x[k] = convertNumbers(e, floats)
		}
		return x
	case []interface{}:
		for i, e := range x {
			x[i] = convertNumbers(e, floats)
		}
		return x
	}
	return v
}

func decodeData(raw json.RawMessage, floats bool) interface{} {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		panic(err)
	}
	return convertNumbers(v, floats)
}

// testFuncs are the functions a case gets with "funcs": true. The TypeScript
// harness installs functions with the same behaviour.
func testFuncs() template.FuncMap {
	return template.FuncMap{
		"echo": func(args ...interface{}) interface{} {
			if len(args) == 0 {
				return nil
			}
			return args[0]
		},
		"fail": func(args ...interface{}) (interface{}, error) {
			return nil, errors.New(fmt.Sprint(args...))
		},
		"list": func(args ...interface{}) []interface{} { return args },
		"dict": func(args ...interface{}) map[string]interface{} {
			m := map[string]interface{}{}
			for i := 0; i+1 < len(args); i += 2 {
				m[fmt.Sprint(args[i])] = args[i+1]
			}
			return m
		},
		"nilf":   func(args ...interface{}) interface{} { return nil },
		"panicf": func(args ...interface{}) interface{} { panic(fmt.Sprint(args...)) },
		"joiner": func(args ...interface{}) interface{} {
			return func(xs ...interface{}) interface{} {
				return fmt.Sprint(append(args, xs...)...)
			}
		},
		"count": func(args ...interface{}) interface{} { return len(args) },
		// Typed functions (the harness declares the same signatures with signature()).
		"upper": func(s string) string { return strings.ToUpper(s) },
		"inc":   func(i int) int { return i + 1 },
		"half":  func(f float64) float64 { return f / 2 },
		"neg":   func(b bool) bool { return !b },
		"join2": func(sep string, xs ...string) string { return strings.Join(xs, sep) },
		"addf":  func(a int, b float64) float64 { return float64(a) + b },
		"pair":  func(a, b interface{}) []interface{} { return []interface{}{a, b} },
		"typedfn": func() interface{} {
			return func(s string, n int) string { return strings.Repeat(s, n) }
		},
		"typedvar": func() interface{} {
			return func(sep string, xs ...interface{}) string { return fmt.Sprint(sep, xs) }
		},
		"mayfail": func(s string) (string, error) {
			if s == "bad" {
				return "", errors.New("bad input")
			}
			return s + "!", nil
		},
	}
}

// Service and Named are the struct fixture; the TypeScript harness has
// classes with the same fields and methods.
type Service struct {
	Name    string
	Port    int
	Tags    []string
	Meta    map[string]string
	Weight  float64
	Healthy bool
	Next    *Service
}

func (s *Service) Addr(host string) string { return fmt.Sprintf("%s:%d", host, s.Port) }

func (s *Service) HasTag(t string) bool {
	for _, x := range s.Tags {
		if x == t {
			return true
		}
	}
	return false
}

func (s *Service) Fail() (string, error) { return "", errors.New("service failure") }

func (s *Service) Upper() string { return strings.ToUpper(s.Name) }

type Named struct{ N string }

func (n Named) String() string { return "Named(" + n.N + ")" }

func structFixture() interface{} {
	web := &Service{Name: "web", Port: 80, Tags: []string{"a", "b"}, Meta: map[string]string{"k": "v"}, Weight: 1.5, Healthy: true}
	db := &Service{Name: "db", Port: 5432, Tags: []string{}, Meta: map[string]string{}, Weight: 2, Next: web}
	return map[string]interface{}{"svc": web, "db": db, "svcs": []*Service{web, db}, "named": Named{"x"}}
}

func run(c *Case) (res *Result) {
	res = &Result{}
	defer func() {
		if r := recover(); r != nil {
			res.Err = fmt.Sprint(r)
			res.Phase = "panic"
		}
	}()
	name := c.TplName
	if name == "" {
		name = "tpl"
	}
	t := template.New(name)
	if c.Funcs {
		t.Funcs(testFuncs())
	}
	if c.MissingKey != "" {
		t.Option("missingkey=" + c.MissingKey)
	}
	if len(c.Delims) == 2 {
		t.Delims(c.Delims[0], c.Delims[1])
	}
	if _, err := t.Parse(c.Tmpl); err != nil {
		res.Err, res.Phase = err.Error(), "parse"
		return res
	}
	for _, text := range c.Reparse {
		if _, err := t.Parse(text); err != nil {
			res.Err, res.Phase = err.Error(), "parse"
			return res
		}
	}
	defNames := make([]string, 0, len(c.Defs))
	for n := range c.Defs {
		defNames = append(defNames, n)
	}
	sort.Strings(defNames)
	for _, n := range defNames {
		if _, err := t.New(n).Parse(c.Defs[n]); err != nil {
			res.Err, res.Phase = err.Error(), "parse"
			return res
		}
	}
	if c.Mode == "tree" {
		if t.Tree == nil || t.Tree.Root == nil {
			res.Out = "<nil>"
		} else {
			res.Out = t.Tree.Root.String()
		}
		return res
	}
	data := decodeData(c.Data, c.Floats)
	if c.Fixture == "structs" {
		data = structFixture()
	}
	var buf bytes.Buffer
	var err error
	if c.Exec != "" {
		err = t.ExecuteTemplate(&buf, c.Exec, data)
	} else {
		err = t.Execute(&buf, data)
	}
	res.Out = buf.String()
	if err != nil {
		res.Err, res.Phase = err.Error(), "exec"
	}
	return res
}

// goVersionAtLeast reports whether the running Go is at least "1.N".
func goVersionAtLeast(min string) bool {
	have := strings.TrimPrefix(runtime.Version(), "go")
	return compareVersions(have, min) >= 0
}

func compareVersions(a, b string) int {
	pa := strings.Split(a, ".")
	pb := strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(strings.TrimLeft(pa[i], "v"))
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// bench renders one template repeatedly for about ms milliseconds and prints
// "renders/s" as a number, after writing one rendering to outFile.
func bench(tmplFile, dataFile, outFile string, ms int) {
	text, err := os.ReadFile(tmplFile)
	if err != nil {
		panic(err)
	}
	raw, err := os.ReadFile(dataFile)
	if err != nil {
		panic(err)
	}
	data := decodeData(raw, false)
	t := template.Must(template.New("bench").Parse(string(text)))
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		panic(err)
	}
	if outFile != "" {
		if err := os.WriteFile(outFile, buf.Bytes(), 0o644); err != nil {
			panic(err)
		}
	}
	n := 0
	start := time.Now()
	deadline := start.Add(time.Duration(ms) * time.Millisecond)
	for time.Now().Before(deadline) {
		buf.Reset()
		if err := t.Execute(&buf, data); err != nil {
			panic(err)
		}
		n++
	}
	fmt.Printf("%.1f\n", float64(n)/time.Since(start).Seconds())
}

func main() {
	casesDir := flag.String("cases", "test/template/cases", "directory of <topic>.json case files")
	outDir := flag.String("out", "", "directory for <topic>.golden.json (default: the cases directory)")
	benchTmpl := flag.String("bench-tmpl", "", "benchmark mode: template file to render")
	benchData := flag.String("bench-data", "", "benchmark mode: JSON data file")
	benchOut := flag.String("bench-out", "", "benchmark mode: write one rendering here")
	benchMs := flag.Int("bench-ms", 2000, "benchmark mode: duration in milliseconds")
	flag.Parse()
	if *benchTmpl != "" {
		bench(*benchTmpl, *benchData, *benchOut, *benchMs)
		return
	}
	if *outDir == "" {
		*outDir = *casesDir
	}
	files, err := filepath.Glob(filepath.Join(*casesDir, "*.json"))
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".golden.json") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		var cases []Case
		if err := json.Unmarshal(raw, &cases); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", f, err)
			os.Exit(2)
		}
		g := Golden{Go: runtime.Version(), Results: map[string]*Result{}}
		for i := range cases {
			c := &cases[i]
			if _, dup := g.Results[c.Name]; dup {
				fmt.Fprintf(os.Stderr, "%s: duplicate case %q\n", f, c.Name)
				os.Exit(2)
			}
			if c.MinGo != "" && !goVersionAtLeast(c.MinGo) {
				continue
			}
			g.Results[c.Name] = run(c)
		}
		out, err := json.MarshalIndent(g, "", "  ")
		if err != nil {
			panic(err)
		}
		out = append(out, '\n')
		base := strings.TrimSuffix(filepath.Base(f), ".json")
		if err := os.WriteFile(filepath.Join(*outDir, base+".golden.json"), out, 0o644); err != nil {
			panic(err)
		}
	}
}
