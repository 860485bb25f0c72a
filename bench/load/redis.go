package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisPrefix is the key prefix of the shopedge-redis target: what the
// default prefix would be for a shop at shop.example.com, so that the
// bytes per key are those of a real deployment.
const redisPrefix = "shopedge:shop.example.com:"

// redisSample is how many profile keys MEMORY USAGE is asked about.
const redisSample = 1000

// redisServer is the harness's own redis-server, for shopedge-redis.
type redisServer struct {
	proc     *proc
	addr     string
	client   *redis.Client
	baseline int64 // used_memory of the empty server
}

// errNoRedis says redis-server is not in PATH.
var errNoRedis = errors.New("target shopedge-redis needs redis-server in PATH (Debian: apt-get install redis-server), or leave the target out with -targets")

// startRedis starts redis-server on a free loopback port, with no
// persistence, pinned with the shop and the load generator (a Redis runs
// on other machines than the proxy in a deployment), and reads the empty
// server's memory.
func startRedis(dir string) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errNoRedis
	}
	var last error
	for range 3 { // the free port may be taken between the probe and the start
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		p, err := start("redis-server", pin("1", []string{bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
			"--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "yes"}), nil)
		if err != nil {
			return nil, err
		}
		if _, last = p.await(`(Ready to accept connections)`); last != nil {
			p.stop()
			continue
		}
		r := &redisServer{proc: p, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
		r.client = redis.NewClient(&redis.Options{Addr: r.addr, DisableIdentity: true})
		if r.baseline, err = r.usedMemory(); err != nil {
			r.stop()
			return nil, err
		}
		return r, nil
	}
	return nil, fmt.Errorf("start redis-server: %w", last)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port for redis-server: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// url is the store.url of the shopedge-redis target.
func (r *redisServer) url() string { return "redis://" + r.addr + "/0" }

func (r *redisServer) stop() {
	_ = r.client.Close()
	r.proc.stop()
}

// usedMemory reads used_memory from INFO memory.
func (r *redisServer) usedMemory() (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := r.client.Info(ctx, "memory").Result()
	if err != nil {
		return 0, fmt.Errorf("redis INFO memory: %w", err)
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("redis INFO memory: used_memory %q: %w", v, err)
			}
			return n, nil
		}
	}
	return 0, errors.New("redis INFO memory: no used_memory")
}

// redisStats is what Redis holds after a run, and what a visitor profile
// costs it.
type redisStats struct {
	// Baseline and Used are used_memory before shopedge-redis started and
	// after the run (shopedge-redis stopped, so that it has written all it
	// held and its connections are gone).
	Baseline int64 `json:"used_memory_baseline_bytes"`
	Used     int64 `json:"used_memory_bytes"`
	Keys     int64 `json:"keys"`
	// ProfileKeys is the number of profiles: keys PREFIX{visitorID}:p.
	ProfileKeys int64 `json:"profile_keys"`
	// OtherBytes is MEMORY USAGE summed over every key that is not a
	// profile (the state instances start from, counters, published
	// changes).
	OtherBytes int64 `json:"other_keys_bytes"`
	// PerProfileAll charges all of used_memory's growth to the profiles;
	// PerProfile takes the other keys out first.
	PerProfileAll float64 `json:"bytes_per_profile_all_growth"`
	PerProfile    float64 `json:"bytes_per_profile"`
	// Sampled is how many profile keys (up to redisSample) Usage (MEMORY
	// USAGE: key, value and Redis's own overhead, in the allocator's size
	// classes) and Value (STRLEN: the bytes shopedge wrote) describe.
	Sampled int  `json:"sampled_profile_keys"`
	Usage   stat `json:"profile_memory_usage_bytes"`
	Value   stat `json:"profile_value_bytes"`
	KeyLen  stat `json:"profile_key_bytes"`
}

// stats reads used_memory and walks the keys: profiles counted and sampled,
// the others' MEMORY USAGE summed.
func (r *redisServer) stats() (redisStats, error) {
	s := redisStats{Baseline: r.baseline}
	var err error
	if s.Used, err = r.usedMemory(); err != nil {
		return s, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var sample, values, keyLens []float64
	var cursor uint64
	for {
		keys, next, err := r.client.Scan(ctx, cursor, "*", 1000).Result()
		if err != nil {
			return s, fmt.Errorf("redis SCAN: %w", err)
		}
		for _, k := range keys {
			s.Keys++
			if isProfileKey(k) {
				s.ProfileKeys++
				if len(sample) < redisSample {
					n, err := r.client.MemoryUsage(ctx, k).Result()
					if err != nil && !errors.Is(err, redis.Nil) { // Nil: expired since the SCAN
						return s, fmt.Errorf("redis MEMORY USAGE %s: %w", k, err)
					}
					v, err := r.client.StrLen(ctx, k).Result()
					if err != nil {
						return s, fmt.Errorf("redis STRLEN %s: %w", k, err)
					}
					if n > 0 && v > 0 {
						sample, values = append(sample, float64(n)), append(values, float64(v))
						keyLens = append(keyLens, float64(len(k)))
					}
				}
				continue
			}
			n, err := r.client.MemoryUsage(ctx, k, 0).Result() // 0: every element counted
			if err != nil && !errors.Is(err, redis.Nil) {
				return s, fmt.Errorf("redis MEMORY USAGE %s: %w", k, err)
			}
			s.OtherBytes += n
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	s.Sampled, s.Usage, s.Value, s.KeyLen = len(sample), statOf(sample), statOf(values), statOf(keyLens)
	if s.ProfileKeys > 0 {
		s.PerProfileAll = float64(s.Used-s.Baseline) / float64(s.ProfileKeys)
		s.PerProfile = float64(s.Used-s.Baseline-s.OtherBytes) / float64(s.ProfileKeys)
	}
	return s, nil
}

// isProfileKey says whether k is a visitor profile's key in the layout of
// proxy/store/remote: PREFIX{visitorID}:p.
func isProfileKey(k string) bool {
	rest, ok := strings.CutPrefix(k, redisPrefix+"{")
	return ok && strings.HasSuffix(rest, "}:p")
}

// storeMetrics reads shopedge's figures of its shared store from /metrics:
// every sample whose name begins with shopedge_store_, keyed by the name
// and its labels as written.
func storeMetrics(adminURL, token string) map[string]float64 {
	req, err := http.NewRequest("GET", adminURL+"/metrics", nil)
	if err != nil {
		return nil
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "shopedge_store_") {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(l[i+1:], 64); err == nil {
			out[l[:i]] = v
		}
	}
	return out
}
