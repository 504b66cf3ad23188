// gopay-bench: the community Go SDK gopay doing what bench/node-client.mjs does with the official
// Node SDK: N concurrent workers in a closed loop, each repeating the v3 query of its own `pending`
// authentication (WAITING_VERIFY, repeatable) through one shared gopay client, which signs every
// request. (gopay's generic call does not verify answers — see ../../README.md — so this client
// does less work per query than the Node SDK's curl().)
//
//	go run ./cmd/gopay-bench --endpoint http://127.0.0.1:PORT [--concurrency N] [--duration SECS] [--json]
//
// The endpoint must be a `jobworth sandbox` whose control plane answers this process: it registers
// its own app and creates its authentications there. Loopback only; the loop ends at the deadline.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-pay/gopay"

	gi "jobworth/interop/go"
)

type report struct {
	RequestsPerSec float64 `json:"requests_per_sec"`
	P50Ms          float64 `json:"p50_ms"`
	P99Ms          float64 `json:"p99_ms"`
	Requests       int     `json:"requests"`
	Errors         int     `json:"errors"`
	DurationSecs   float64 `json:"duration_secs"`
	Concurrency    int     `json:"concurrency"`
	PeakRSSMiB     float64 `json:"peak_rss_mib"`
	Client         string  `json:"client"`
	CPUSecs        float64 `json:"cpu_secs"` // user+sys of this process during the timed loop only
}

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "error: %s\nusage: gopay-bench --endpoint URL [--concurrency N] [--duration SECS] [--json]\n", msg)
	os.Exit(2)
}

func main() {
	fs := flag.NewFlagSet("gopay-bench", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "", "sandbox base URL (loopback)")
	concurrency := fs.Int("concurrency", 2*runtime.NumCPU(), "concurrent workers")
	duration := fs.Float64("duration", 5, "seconds of timed load")
	asJSON := fs.Bool("json", false, "print one JSON line")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		usage("unknown argument " + fs.Arg(0))
	}
	*endpoint = strings.TrimRight(*endpoint, "/")
	if *endpoint == "" {
		usage("--endpoint is required")
	}
	u, err := url.Parse(*endpoint)
	if err != nil {
		usage("--endpoint is not a URL")
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1":
	default:
		usage("--endpoint must be a loopback address")
	}
	if *concurrency < 1 || *concurrency > 1024 {
		usage("--concurrency must be an integer from 1 to 1024")
	}
	if !(*duration > 0 && *duration <= 3600) {
		usage("--duration must be a number of seconds (0 < s <= 3600)")
	}
	rep, err := run(*endpoint, *concurrency, *duration)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		if rep == nil {
			os.Exit(1)
		}
		os.Exit(4)
	}
	if *asJSON {
		line, _ := json.Marshal(rep)
		fmt.Println(string(line))
		return
	}
	fmt.Printf("gopay — %d workers for %.3fs against %s\n", *concurrency, rep.DurationSecs, *endpoint)
	b, _ := json.Marshal(rep)
	var kv map[string]any
	_ = json.Unmarshal(b, &kv)
	for _, k := range []string{"requests_per_sec", "p50_ms", "p99_ms", "requests", "errors", "duration_secs", "concurrency", "peak_rss_mib", "cpu_secs", "client"} {
		fmt.Printf("  %-16s %v\n", k, kv[k])
	}
}

func cpuSecs() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func peakRSSMiB() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024 // KiB on Linux
}

// quantile: the same nearest-rank rule as node-client.mjs.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Min(float64(len(sorted)), math.Max(1, math.Ceil(q*float64(len(sorted))))))
	return sorted[rank-1]
}

func round(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// run returns (nil, err) for a setup failure and (report, err) when no timed query succeeded.
func run(endpoint string, concurrency int, duration float64) (*report, error) {
	ctx := context.Background()
	keys, err := gi.GenerateAppKeys()
	if err != nil {
		return nil, err
	}
	ctl := gi.NewControl(endpoint)
	appID := gi.NewAppID()
	if _, err := ctl.RegisterApp(ctx, appID, keys.PublicSPKIPEM, ""); err != nil {
		return nil, err
	}
	// Key mode, as node-client.mjs. gopay takes the key as bare base64.
	client, err := gi.NewClient(endpoint, appID, keys.PrivatePKCS1Bare)
	if err != nil {
		return nil, err
	}
	tag := gi.RandomTag(4)
	queries := make([]gopay.BodyMap, concurrency)
	for i := range queries {
		auth, err := ctl.Authorize(ctx, appID, fmt.Sprintf("gopay-bench-%s-%d", tag, i), "pending")
		if err != nil {
			return nil, err
		}
		queries[i] = gi.QueryParams(auth)
	}
	once := func(bm gopay.BodyMap) error {
		ans, res, err := gi.Query(ctx, client, bm)
		if err != nil {
			return err
		}
		if res.StatusCode != 200 || ans.IdentityResult != "WAITING_VERIFY" {
			return fmt.Errorf("expected WAITING_VERIFY, got HTTP %d identity_result %q code %q", res.StatusCode, ans.IdentityResult, ans.Code)
		}
		return nil
	}
	// Warm-up: one query per worker opens the keep-alive connections before the clock starts.
	var wg sync.WaitGroup
	warm := make([]error, concurrency)
	for i := range queries {
		wg.Add(1)
		go func(i int) { defer wg.Done(); warm[i] = once(queries[i]) }(i)
	}
	wg.Wait()
	for _, e := range warm {
		if e != nil {
			return nil, fmt.Errorf("warm-up query: %w", e)
		}
	}

	perWorker := make([][]float64, concurrency)
	errs := make([]int, concurrency)
	var firstErr error
	var errMu sync.Mutex
	cpu0 := cpuSecs()
	started := time.Now()
	deadline := started.Add(time.Duration(duration * float64(time.Second)))
	var done atomic.Int64
	stopProgress := progress(started, duration, &done)
	for i := range queries {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			lat := make([]float64, 0, 4096)
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := once(queries[i]); err != nil {
					errs[i]++
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					continue
				}
				lat = append(lat, float64(time.Since(t0).Nanoseconds())/1e6)
				done.Add(1)
			}
			perWorker[i] = lat
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(started).Seconds()
	cpu := cpuSecs() - cpu0
	stopProgress()

	var all []float64
	nerr := 0
	for i := range perWorker {
		all = append(all, perWorker[i]...)
		nerr += errs[i]
	}
	sort.Float64s(all)
	rep := &report{
		RequestsPerSec: round(float64(len(all))/elapsed, 1),
		P50Ms:          round(quantile(all, 0.5), 3),
		P99Ms:          round(quantile(all, 0.99), 3),
		Requests:       len(all),
		Errors:         nerr,
		DurationSecs:   round(elapsed, 3),
		Concurrency:    concurrency,
		PeakRSSMiB:     round(peakRSSMiB(), 1),
		Client:         fmt.Sprintf("gopay %s on %s", gopay.Version, runtime.Version()),
		CPUSecs:        round(cpu, 3),
	}
	if len(all) == 0 {
		return rep, fmt.Errorf("no query succeeded: %v", firstErr)
	}
	if nerr > 0 {
		fmt.Fprintf(os.Stderr, "warning: %d queries failed; first: %v\n", nerr, firstErr)
	}
	return rep, nil
}

// progress shows the run on a terminal only, as node-client.mjs does.
func progress(started time.Time, duration float64, done *atomic.Int64) func() {
	st, err := os.Stderr.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				fmt.Fprint(os.Stderr, "\r\x1b[K")
				return
			case <-t.C:
				secs := time.Since(started).Seconds()
				n := done.Load()
				fmt.Fprintf(os.Stderr, "\r\x1b[K[gopay] %.1f/%gs  %d requests  %.0f req/s", secs, duration, n, float64(n)/secs)
			}
		}
	}()
	return func() { close(stop); <-finished }
}
