// The reference side of `npm run bench -- raft` (bench/raft.ts): hashicorp/raft with raft-boltdb, the
// library pair Consul's servers use, from Debian's golang-github-hashicorp-raft-dev and -raft-boltdb-dev.
// It runs N voters in this one process over raft's in-memory transport, each with its own bolt file
// (fsync on every log append, as Consul runs it) and file snapshot store in a temp dir, bootstraps
// them, waits for a leader, and then, for each proposer count, runs a closed loop of Apply() calls on
// the leader: a warm-up that is not recorded, then a measured window. It prints one JSON object.
//
// Built by the bench in GOPATH mode (GO111MODULE=off, GOPATH=<tmp>:/usr/share/gocode).
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb"
)

const (
	keyBytes   = 8
	valueBytes = 256
	// Consul's server wraps its bolt store in a LogCache of this many entries (agent/consul/server.go).
	logCacheEntries = 512
	// Consul keeps this many snapshots (agent/consul/server.go).
	snapshotsRetained = 2
	// How long an RPC may wait for the peer to take it. NewInmemTransport's 50 ms is meant for unit
	// tests: a follower inside a slow fsync misses it and the leader backs off. Consul's TCP
	// transport allows 10 s.
	transportTimeout = 10 * time.Second
)

// kvFSM is the trivial state machine: the last value written under each key.
type kvFSM struct {
	mu      sync.Mutex
	values  map[string][]byte
	applied uint64
}

func (f *kvFSM) Apply(l *raft.Log) interface{} {
	if len(l.Data) != keyBytes+valueBytes {
		return fmt.Errorf("entry of %d bytes", len(l.Data))
	}
	f.mu.Lock()
	f.values[string(l.Data[:keyBytes])] = l.Data[keyBytes:]
	f.applied++
	f.mu.Unlock()
	return nil
}

func (f *kvFSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return kvSnapshot{keys: len(f.values)}, nil
}

func (f *kvFSM) Restore(rc io.ReadCloser) error { return rc.Close() }

// kvSnapshot persists only a key count: the bench never restores, and a snapshot that cost as much
// as the FSM's size would measure the FSM, not raft.
type kvSnapshot struct{ keys int }

func (s kvSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := fmt.Fprintf(sink, "%d\n", s.keys); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (kvSnapshot) Release() {}

type node struct {
	raft  *raft.Raft
	fsm   *kvFSM
	trans *raft.InmemTransport
	store *raftboltdb.BoltStore
}

// config is hashicorp's DefaultConfig as it is: its timeouts (1 s heartbeat and election, 500 ms
// lease) are Consul's at raft_multiplier 1, the timing of our side. They decide when a leader is
// suspected dead, not how fast it commits; shorter ones (100 ms) lost leadership under 64
// proposers when an fsync stalled, which measures the disk's hiccups, not raft.
func config(id raft.ServerID) *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = id
	c.LogOutput = os.Stderr
	c.LogLevel = "WARN"
	return c
}

func startCluster(dir string, n int) ([]*node, error) {
	servers := make([]raft.Server, n)
	addrs := make([]raft.ServerAddress, n)
	transports := make([]*raft.InmemTransport, n)
	for i := 0; i < n; i++ {
		addrs[i], transports[i] = raft.NewInmemTransportWithTimeout(raft.ServerAddress(fmt.Sprintf("n%d", i+1)), transportTimeout)
		servers[i] = raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(addrs[i]), Address: addrs[i]}
	}
	for i := range transports {
		for j := range transports {
			if i != j {
				transports[i].Connect(addrs[j], transports[j])
			}
		}
	}
	nodes := make([]*node, n)
	for i := 0; i < n; i++ {
		d := filepath.Join(dir, string(addrs[i]))
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(d, "raft.db"), NoSync: false})
		if err != nil {
			return nil, err
		}
		logs, err := raft.NewLogCache(logCacheEntries, store)
		if err != nil {
			return nil, err
		}
		snaps, err := raft.NewFileSnapshotStore(d, snapshotsRetained, os.Stderr)
		if err != nil {
			return nil, err
		}
		conf := config(servers[i].ID)
		// Every voter bootstraps with the same configuration, which raft allows.
		if err := raft.BootstrapCluster(conf, logs, store, snaps, transports[i], raft.Configuration{Servers: servers}); err != nil {
			return nil, err
		}
		fsm := &kvFSM{values: map[string][]byte{}}
		r, err := raft.NewRaft(conf, fsm, logs, store, snaps, transports[i])
		if err != nil {
			return nil, err
		}
		nodes[i] = &node{raft: r, fsm: fsm, trans: transports[i], store: store}
	}
	return nodes, nil
}

func waitLeader(nodes []*node, timeout time.Duration) (*node, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			if n.raft.State() == raft.Leader {
				return n, nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil, fmt.Errorf("no leader after %v", timeout)
}

// value is the same 256 bytes on both sides of the bench: printable, not all one letter.
func value() []byte {
	v := make([]byte, valueBytes)
	for i := range v {
		v[i] = byte(33 + (i*37)%90)
	}
	return v
}

type cell struct {
	Proposers     int     `json:"proposers"`
	Commits       int     `json:"commits"`
	Errors        int     `json:"errors"`
	Seconds       float64 `json:"seconds"`
	CommitsPerSec float64 `json:"commitsPerSec"`
	P50Ms         float64 `json:"p50Ms"`
	P99Ms         float64 `json:"p99Ms"`
	FirstError    string  `json:"firstError,omitempty"`
}

// run drives `proposers` closed loops of Apply on the leader until `d` has passed. Each proposer
// builds a fresh entry per call: raft keeps the slice in its log cache.
func run(leader *raft.Raft, proposers int, d time.Duration, seq *uint64) cell {
	val := value()
	lat := make([][]float64, proposers)
	errs := make([]int, proposers)
	firstErr := make([]string, proposers)
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for p := 0; p < proposers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for time.Now().Before(end) {
				k := atomic.AddUint64(seq, 1)
				entry := make([]byte, keyBytes+valueBytes)
				// 1,000 distinct keys, as in the KV bench: the FSM map stays small.
				binary.BigEndian.PutUint64(entry, k%1000)
				copy(entry[keyBytes:], val)
				t0 := time.Now()
				f := leader.Apply(entry, 10*time.Second)
				err := f.Error()
				if err == nil {
					if e, ok := f.Response().(error); ok {
						err = e
					}
				}
				if err != nil {
					errs[p]++
					if firstErr[p] == "" {
						firstErr[p] = err.Error()
					}
					continue
				}
				lat[p] = append(lat[p], float64(time.Since(t0).Nanoseconds())/1e6)
			}
		}(p)
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	var all []float64
	c := cell{Proposers: proposers, Seconds: elapsed}
	for p := 0; p < proposers; p++ {
		all = append(all, lat[p]...)
		c.Errors += errs[p]
		if c.FirstError == "" {
			c.FirstError = firstErr[p]
		}
	}
	sort.Float64s(all)
	c.Commits = len(all)
	c.CommitsPerSec = float64(len(all)) / elapsed
	c.P50Ms = percentile(all, 0.50)
	c.P99Ms = percentile(all, 0.99)
	return c
}

// percentile is nearest-rank over sorted values, the definition bench/raft.ts uses for our side.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return sorted[i]
}

func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad proposer count %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func main() {
	voters := flag.Int("voters", 3, "voters in the cluster")
	proposersFlag := flag.String("proposers", "1,64", "comma-separated concurrent proposer counts, one cell each")
	warmup := flag.Duration("warmup", 2*time.Second, "unrecorded closed-loop load before each cell")
	duration := flag.Duration("duration", 10*time.Second, "measured window of each cell")
	dirFlag := flag.String("dir", "", "data directory (default: a new temp dir, removed at exit)")
	flag.Parse()

	counts, err := parseCounts(*proposersFlag)
	if err != nil {
		fail(err)
	}
	dir := *dirFlag
	if dir == "" {
		if dir, err = os.MkdirTemp("", "raftbench-hashicorp-"); err != nil {
			fail(err)
		}
		defer os.RemoveAll(dir)
	}
	nodes, err := startCluster(dir, *voters)
	if err != nil {
		fail(err)
	}
	// The first entry of a new leader's term must commit before it answers: a barrier waits for it,
	// and a leader that loses an early election race is looked for again.
	var leader *node
	for attempt := 0; ; attempt++ {
		if leader, err = waitLeader(nodes, 15*time.Second); err == nil {
			if err = leader.raft.Barrier(10 * time.Second).Error(); err == nil {
				break
			}
		}
		if attempt == 2 {
			fail(err)
		}
	}

	var seq uint64
	var cells []cell
	for _, c := range counts {
		run(leader.raft, c, *warmup, &seq)
		cells = append(cells, run(leader.raft, c, *duration, &seq))
	}
	// Every voter applied every entry: the figures came from a cluster that replicated. A failed
	// barrier (leadership lost) is reported; the cells' error counts already show it.
	barrierErr := ""
	if err := leader.raft.Barrier(10 * time.Second).Error(); err != nil {
		barrierErr = err.Error()
	}
	want := leader.fsm.applied
	applied := make([]uint64, len(nodes))
	deadline := time.Now().Add(10 * time.Second)
	for i, n := range nodes {
		for {
			n.fsm.mu.Lock()
			applied[i] = n.fsm.applied
			n.fsm.mu.Unlock()
			if applied[i] >= want || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	conf := config("")
	out := map[string]interface{}{
		"library": "hashicorp/raft + raft-boltdb",
		"go":      runtime.Version(),
		"voters":  *voters,
		"config": map[string]interface{}{
			"base":               "raft.DefaultConfig()",
			"heartbeatTimeoutMs": conf.HeartbeatTimeout.Milliseconds(),
			"electionTimeoutMs":  conf.ElectionTimeout.Milliseconds(),
			"leaderLeaseMs":      conf.LeaderLeaseTimeout.Milliseconds(),
			"commitTimeoutMs":    conf.CommitTimeout.Milliseconds(),
			"maxAppendEntries":   conf.MaxAppendEntries,
			"snapshotThreshold":  conf.SnapshotThreshold,
			"trailingLogs":       conf.TrailingLogs,
			"transport":          fmt.Sprintf("raft.NewInmemTransportWithTimeout(%v)", transportTimeout),
			"logStore":           fmt.Sprintf("raft.NewLogCache(%d, raftboltdb.New(NoSync: false))", logCacheEntries),
			"snapshotStore":      fmt.Sprintf("raft.NewFileSnapshotStore(retain %d)", snapshotsRetained),
		},
		"warmupSeconds": warmup.Seconds(),
		"entryBytes":    keyBytes + valueBytes,
		"applied":       applied,
		"finalBarrier":  barrierErr,
		"stillLeader":   leader.raft.State() == raft.Leader,
		"cells":         cells,
	}
	for _, n := range nodes {
		n.raft.Shutdown().Error()
		n.store.Close()
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "raftbench: %v\n", err)
	os.Exit(1)
}
