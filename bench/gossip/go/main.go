// The memberlist side of `npm run bench -- gossip`: N hashicorp/memberlist members in this one
// process on loopback with memberlist's LAN configuration (the timers our LAN preset copies).
// It reports, as one JSON line: how long until every member knows all N (each joining the first
// as it starts), then, for each of -crashes members shut down one after another without a leave,
// how long until each survivor reports it gone.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

func main() {
	n := flag.Int("n", 50, "members")
	port := flag.Int("port", 28000, "first UDP/TCP port (one per member)")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after")
	crashes := flag.Int("crashes", 1, "members crashed one after another")
	flag.Parse()

	shared := map[string]map[string]time.Time{}
	var mu sync.Mutex
	members := make([]*memberlist.Memberlist, *n)
	start := time.Now()
	for i := 0; i < *n; i++ {
		c := memberlist.DefaultLANConfig()
		c.Name = fmt.Sprintf("m%03d", i)
		c.BindAddr, c.AdvertiseAddr = "127.0.0.1", "127.0.0.1"
		c.BindPort, c.AdvertisePort = *port+i, *port+i
		c.LogOutput = io.Discard
		c.Events = &eventsShared{mu: &mu, gone: shared, self: c.Name}
		m, err := memberlist.Create(c)
		if err != nil {
			fail(err)
		}
		if i > 0 {
			if _, err := m.Join([]string{fmt.Sprintf("127.0.0.1:%d", *port)}); err != nil {
				fail(err)
			}
		}
		members[i] = m
	}
	until(*timeout, func() bool {
		for _, m := range members {
			if m.NumMembers() != *n {
				return false
			}
		}
		return true
	})
	converged := time.Since(start)

	detect := [][]float64{}
	for k := 1; k <= *crashes; k++ {
		victim := fmt.Sprintf("m%03d", *n-k)
		mu.Lock()
		shared[victim] = map[string]time.Time{}
		mu.Unlock()
		crashed := time.Now()
		members[*n-k].Shutdown()
		until(*timeout, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(shared[victim]) == *n-k
		})
		times := []float64{}
		mu.Lock()
		for _, t := range shared[victim] {
			times = append(times, float64(t.Sub(crashed).Microseconds())/1000)
		}
		mu.Unlock()
		detect = append(detect, times)
	}
	out, _ := json.Marshal(map[string]interface{}{"convergeMs": float64(converged.Microseconds()) / 1000, "detectMs": detect})
	fmt.Println(string(out))
	for _, m := range members[:*n-*crashes] {
		m.Shutdown()
	}
}

// Each survivor's first report of each crashed member (victim -> survivor -> when).
type eventsShared struct {
	mu   *sync.Mutex
	gone map[string]map[string]time.Time
	self string
}

func (e *eventsShared) NotifyJoin(*memberlist.Node)   {}
func (e *eventsShared) NotifyUpdate(*memberlist.Node) {}
func (e *eventsShared) NotifyLeave(n *memberlist.Node) {
	e.mu.Lock()
	defer e.mu.Unlock()
	seen, watched := e.gone[n.Name]
	if !watched {
		return
	}
	if _, ok := seen[e.self]; !ok {
		seen[e.self] = time.Now()
	}
}

func until(timeout time.Duration, done func() bool) {
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			fail(fmt.Errorf("timed out"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
