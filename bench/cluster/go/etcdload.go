// The gRPC reference side of `npm run bench -- cluster` (bench/cluster.ts): N closed-loop clients
// putting a 100-byte value under a random one of 1,000 keys through etcd's own Go client (clientv3,
// gRPC), the way etcd's tools/benchmark `put` drives it. A warm-up that is not recorded, then a
// measured window; prints one JSON object. The keys and value are the ones the wrk cells write.
//
// Built by the bench in GOPATH mode (GO111MODULE=off, GOPATH=<tmp>:/usr/share/gocode) against
// Debian's golang-etcd-server-dev (etcd 3.4, import path go.etcd.io/etcd/clientv3).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
	"google.golang.org/grpc/grpclog"
)

type result struct {
	Clients    int     `json:"clients"`
	Conns      int     `json:"conns"`
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	Seconds    float64 `json:"seconds"`
	OpsPerSec  float64 `json:"opsPerSec"`
	P50Ms      float64 `json:"p50Ms"`
	P99Ms      float64 `json:"p99Ms"`
	FirstError string  `json:"firstError,omitempty"`
	Go         string  `json:"go"`
}

// percentile is nearest-rank over sorted values, as bench/raft computes it.
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return float64(sorted[i]) / float64(time.Millisecond)
}

func main() {
	endpoints := flag.String("endpoints", "", "comma-separated client URLs (the bench passes the leader's only)")
	clients := flag.Int("clients", 1, "concurrent closed-loop clients")
	conns := flag.Int("conns", 1, "gRPC connections the clients share round-robin")
	warmup := flag.Duration("warmup", 2*time.Second, "unrecorded warm-up")
	duration := flag.Duration("duration", 10*time.Second, "measured window")
	keys := flag.Int("keys", 1000, "distinct keys")
	valueBytes := flag.Int("value-bytes", 100, "value size")
	timeout := flag.Duration("timeout", 10*time.Second, "per-put timeout (as wrk's --timeout)")
	flag.Parse()
	if *endpoints == "" || *clients < 1 || *conns < 1 {
		fmt.Fprintln(os.Stderr, "usage: etcdload -endpoints URL[,URL] [-clients N] [-conns N] [-warmup D] [-duration D]")
		os.Exit(2)
	}
	// Quiet clients: retries logged at info would cost CPU on the shared machine.
	clientv3.SetLogger(grpclog.NewLoggerV2(io.Discard, io.Discard, os.Stderr))

	value := make([]byte, *valueBytes)
	for i := range value {
		value[i] = byte(33 + (i*37)%90) // the same bytes as bench/cluster.ts VALUE
	}
	names := make([]string, *keys)
	for i := range names {
		names[i] = fmt.Sprintf("bench/key-%03d", i)
	}

	cs := make([]*clientv3.Client, *conns)
	for i := range cs {
		c, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*endpoints, ","), DialTimeout: 5 * time.Second})
		if err != nil {
			log.Fatalf("clientv3.New: %v", err)
		}
		defer c.Close()
		cs[i] = c
	}

	start := time.Now()
	measureFrom := start.Add(*warmup)
	end := measureFrom.Add(*duration)
	var (
		mu       sync.Mutex
		all      []time.Duration
		errors   int
		firstErr string
		wg       sync.WaitGroup
	)
	for w := 0; w < *clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			kv := cs[w%len(cs)]
			rng := rand.New(rand.NewSource(time.Now().UnixNano() + int64(w)*7919))
			var lat []time.Duration
			errs := 0
			first := ""
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				ctx, cancel := context.WithTimeout(context.Background(), *timeout)
				_, err := kv.Put(ctx, names[rng.Intn(len(names))], string(value))
				cancel()
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			errors += errs
			if firstErr == "" {
				firstErr = first
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	// The window closes when the last put started inside it returns, as wrk's does.
	secs := time.Since(measureFrom).Seconds()
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	out := result{
		Clients: *clients, Conns: *conns, Requests: len(all), Errors: errors, Seconds: secs,
		OpsPerSec: float64(len(all)) / secs, P50Ms: percentile(all, 0.5), P99Ms: percentile(all, 0.99),
		FirstError: firstErr, Go: runtime.Version(),
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		log.Fatal(err)
	}
}
