// Writes, for every case in cases.json, what Go's regexp package does with it: whether the
// pattern compiles, and every match (FindAllStringSubmatch) of it in each input. Standard
// library only; check-goldens.sh builds and runs it.
package main

import (
	"encoding/json"
	"flag"
	"os"
	"regexp"
)

type testCase struct {
	Pattern string   `json:"pattern"`
	Inputs  []string `json:"inputs"`
}

type result struct {
	Pattern string `json:"pattern"`
	Error   bool   `json:"error"`
	// Per input, per match, each group's text (null where the group did not take part).
	Matches [][][]*string `json:"matches"`
}

func main() {
	casesPath := flag.String("cases", "", "cases.json")
	flag.Parse()
	raw, err := os.ReadFile(*casesPath)
	if err != nil {
		panic(err)
	}
	var cases []testCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		panic(err)
	}
	out := make([]result, 0, len(cases))
	for _, c := range cases {
		r := result{Pattern: c.Pattern, Matches: [][][]*string{}}
		re, err := regexp.Compile(c.Pattern)
		if err != nil {
			r.Error = true
			out = append(out, r)
			continue
		}
		for _, in := range c.Inputs {
			perInput := [][]*string{}
			for _, loc := range re.FindAllStringSubmatchIndex(in, -1) {
				groups := []*string{}
				for g := 0; g < len(loc); g += 2 {
					if loc[g] < 0 {
						groups = append(groups, nil)
						continue
					}
					s := in[loc[g]:loc[g+1]]
					groups = append(groups, &s)
				}
				perInput = append(perInput, groups)
			}
			r.Matches = append(r.Matches, perInput)
		}
		out = append(out, r)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]interface{}{"results": out}); err != nil {
		panic(err)
	}
}
