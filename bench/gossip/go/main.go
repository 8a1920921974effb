// The memberlist side of `npm run bench -- gossip`: N hashicorp/memberlist members in this one
// process on loopback with memberlist's LAN configuration (the timers our LAN preset copies).
// It reports, as one JSON line: how long until every member knows all N (each joining the first
// as it starts), then, after one member is shut down without a leave, how long until each
// survivor reports it gone.
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
	flag.Parse()

	victim := fmt.Sprintf("m%03d", *n-1)
	shared := map[string]time.Time{}
	var mu sync.Mutex
	members := make([]*memberlist.Memberlist, *n)
	start := time.Now()
	for i := 0; i < *n; i++ {
		c := memberlist.DefaultLANConfig()
		c.Name = fmt.Sprintf("m%03d", i)
		c.BindAddr, c.AdvertiseAddr = "127.0.0.1", "127.0.0.1"
		c.BindPort, c.AdvertisePort = *port+i, *port+i
		c.LogOutput = io.Discard
		c.Events = &eventsShared{mu: &mu, victim: victim, gone: shared, self: c.Name}
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

	crashed := time.Now()
	members[*n-1].Shutdown()
	until(*timeout, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(shared) == *n-1
	})
	detect := []float64{}
	mu.Lock()
	for _, t := range shared {
		detect = append(detect, float64(t.Sub(crashed).Microseconds())/1000)
	}
	mu.Unlock()
	out, _ := json.Marshal(map[string]interface{}{"convergeMs": float64(converged.Microseconds()) / 1000, "detectMs": detect})
	fmt.Println(string(out))
	for _, m := range members[:*n-1] {
		m.Shutdown()
	}
}

type eventsShared struct {
	mu     *sync.Mutex
	victim string
	gone   map[string]time.Time
	self   string
}

func (e *eventsShared) NotifyJoin(*memberlist.Node)   {}
func (e *eventsShared) NotifyUpdate(*memberlist.Node) {}
func (e *eventsShared) NotifyLeave(n *memberlist.Node) {
	if n.Name != e.victim {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, seen := e.gone[e.self]; !seen {
		e.gone[e.self] = time.Now()
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
