package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestServeReloadOnChange: a change of the configuration file reloads it
// (a bad file keeps the old configuration, and says why), POST /reload on
// the admin listener does too and answers what happened, and visitors
// requesting pages all the while get every page (issue 11).
func TestServeReloadOnChange(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	up := start(t, nil, "demo", "-listen", "127.0.0.1:0", "-shop-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0")
	shopURL := up.waitFor(t, `demo shop:\s+(http://\S+)/`)[1]
	cfgPath := filepath.Join(t.TempDir(), "shop.yaml")
	write := func(s string) {
		// As deploy tools do: a new file renamed over the old one.
		tmp := cfgPath + ".new"
		if err := os.WriteFile(tmp, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, cfgPath); err != nil {
			t.Fatal(err)
		}
	}
	base := "upstream:\n  url: " + shopURL + "\nserver:\n  listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\n"
	write(base)
	p := start(t, []string{"SHOPEDGE_SECRET=0123456789abcdef0123456789abcdef0123", "SHOPEDGE_ADMIN_TOKEN=admin-test-token"}, "serve", "-config", cfgPath)
	proxyURL := p.waitFor(t, `serving \S+ on (http://\S+)`)[1]
	adminURL := strings.TrimSuffix(p.waitFor(t, `admin: (http://\S+/metrics)`)[1], "/metrics")

	// Visitors all along: every page arrives whole.
	var stop atomic.Bool
	var bad atomic.Int64
	var served atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				resp, err := http.Get(proxyURL + "/")
				if err != nil {
					bad.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					bad.Add(1)
				}
				served.Add(1)
			}
		}()
	}

	write(base + "navigation:\n  container: 'nav >> ul'\n")
	p.waitFor(t, `msg="configuration file changed: reloading"`)
	p.waitFor(t, `level=ERROR msg="reload: configuration problem" file=\S+shop.yaml line=8 col=14 field=navigation.container`)
	write(base + "navigation:\n  container: 'nav ul'\n")
	p.waitFor(t, `level=INFO msg="configuration reloaded" config=\S+ result=success`)

	post := func() (int, map[string]any) {
		req, _ := http.NewRequest("POST", adminURL+"/reload", nil)
		req.Header.Set("Authorization", "Bearer admin-test-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, m
	}
	// The file is written in place now, so the watcher may reload it too;
	// the admin call reads it again either way.
	if err := os.WriteFile(cfgPath, []byte(base+"limits:\n  gzip_level: 12\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, m := post(); code != 422 || m["result"] != "failure" || !strings.Contains(strings.Join(toStrings(m["problems"]), "\n"), "limits.gzip_level: want 1 to 9, got 12") {
		t.Errorf("POST /reload of a bad file: %d %v", code, m)
	}
	if err := os.WriteFile(cfgPath, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, m := post(); code != 200 || m["result"] != "success" {
		t.Errorf("POST /reload of a good file: %d %v", code, m)
	}
	stop.Store(true)
	wg.Wait()
	if served.Load() == 0 || bad.Load() > 0 {
		t.Errorf("%d of %d requests during the reloads failed", bad.Load(), served.Load())
	}
}

func toStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, s := range l {
			out = append(out, s.(string))
		}
	}
	return out
}
