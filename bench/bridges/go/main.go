// The reference for mesos-consul's poll cost: the work upstream's Go mesos-consul does every
// refresh, written small and standard-library only: read the leader's /master/state, decode it
// into typed structs, build the registrations (ID, name, address, port per task port), read every
// host agent's /v1/agent/services and compare, as upstream's cache does. Prints the CPU time
// (user+system, from getrusage) per poll over -polls polls after one warm-up poll.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type resources struct {
	Ports string `json:"ports"`
}

type label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type status struct {
	State     string  `json:"state"`
	Timestamp float64 `json:"timestamp"`
	Labels    []label `json:"labels"`
}

type task struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	SlaveID   string    `json:"slave_id"`
	State     string    `json:"state"`
	Resources resources `json:"resources"`
	Statuses  []status  `json:"statuses"`
	Labels    []label   `json:"labels"`
}

type framework struct {
	Name  string `json:"name"`
	Tasks []task `json:"tasks"`
}

type slave struct {
	ID       string `json:"id"`
	PID      string `json:"pid"`
	Hostname string `json:"hostname"`
}

type state struct {
	Leader     string      `json:"leader"`
	Slaves     []slave     `json:"slaves"`
	Frameworks []framework `json:"frameworks"`
}

type service struct {
	ID      string
	Name    string
	Address string
	Port    int
	Tags    []string
}

func pidHost(pid string) string {
	at := strings.LastIndex(pid, "@")
	colon := strings.LastIndex(pid, ":")
	if at < 0 || colon < at {
		return ""
	}
	return pid[at+1 : colon]
}

func ports(r string) []int {
	var out []int
	r = strings.Trim(strings.TrimSpace(r), "[]")
	for _, part := range strings.Split(r, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lohi := strings.SplitN(part, "-", 2)
		lo, _ := strconv.Atoi(strings.TrimSpace(lohi[0]))
		hi := lo
		if len(lohi) == 2 {
			hi, _ = strconv.Atoi(strings.TrimSpace(lohi[1]))
		}
		for p := lo; p <= hi; p++ {
			out = append(out, p)
		}
	}
	return out
}

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func poll(client *http.Client, master string, consulPort int) (int, error) {
	res, err := client.Get("http://" + master + "/master/state")
	if err != nil {
		return 0, err
	}
	var st state
	err = json.NewDecoder(res.Body).Decode(&st)
	res.Body.Close()
	if err != nil {
		return 0, err
	}
	hosts := map[string]string{}
	for _, s := range st.Slaves {
		hosts[s.ID] = pidHost(s.PID)
	}
	want := map[string]map[string]service{}
	n := 0
	for _, f := range st.Frameworks {
		for _, t := range f.Tasks {
			if t.State != "TASK_RUNNING" {
				continue
			}
			host := hosts[t.SlaveID]
			if host == "" {
				continue
			}
			name := strings.ToLower(strings.NewReplacer(".", "-", "_", "-").Replace(t.Name))
			var tags []string
			for _, l := range t.Labels {
				if l.Key == "tags" {
					tags = append(tags, strings.Split(l.Value, ",")...)
				}
			}
			agent := fmt.Sprintf("%s:%d", host, consulPort)
			if want[agent] == nil {
				want[agent] = map[string]service{}
			}
			for _, p := range ports(t.Resources.Ports) {
				id := fmt.Sprintf("mesos-consul:%s:%s:%d", host, name, p)
				want[agent][id] = service{ID: id, Name: name, Address: host, Port: p, Tags: tags}
				n++
			}
		}
	}
	for agent, svcs := range want {
		res, err := client.Get("http://" + agent + "/v1/agent/services")
		if err != nil {
			return 0, err
		}
		var have map[string]struct {
			ID      string
			Service string
			Port    int
			Address string
			Tags    []string
		}
		err = json.NewDecoder(res.Body).Decode(&have)
		res.Body.Close()
		if err != nil {
			return 0, err
		}
		missing := 0
		for id, s := range svcs {
			h, ok := have[id]
			if !ok || h.Port != s.Port || h.Service != s.Name || h.Address != s.Address {
				missing++
			}
		}
		_ = missing
	}
	return n, nil
}

func main() {
	master := flag.String("master", "", "host:port of the Mesos master")
	consulPort := flag.Int("consul-port", 8500, "HTTP port of every host's agent")
	polls := flag.Int("polls", 20, "measured polls")
	flag.Parse()
	client := &http.Client{Timeout: 30 * time.Second}
	if _, err := poll(client, *master, *consulPort); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	start := cpu()
	wall := time.Now()
	n := 0
	for i := 0; i < *polls; i++ {
		var err error
		if n, err = poll(client, *master, *consulPort); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	fmt.Printf("{\"registrations\": %d, \"cpuMsPerPoll\": %.3f, \"wallMsPerPoll\": %.3f}\n", n, float64(cpu()-start)/float64(time.Millisecond)/float64(*polls), float64(time.Since(wall))/float64(time.Millisecond)/float64(*polls))
}
