package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"shopedge/proxy/proxytest"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("upstream:\n  url: http://127.0.0.1:1\nnavigation:\n  container: 'nav >> ul'\n  itme: li\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	const old = "../../proxy/plan/testdata/rules.yaml" // the demo's before it used segments
	if code := run([]string{"check", "../../configs/demo.yaml", old, bad}, &out, &errOut); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !strings.Contains(out.String(), "configs/demo.yaml: ok\n") {
		t.Errorf("stdout %q lacks the demo, ok without a warning", out.String())
	}
	// The demo's scroll-depth invitation was for new visitors on category
	// pages, where the exit offer (higher priority, for every prospect)
	// always won first: check says so.
	if want := "rules.yaml:135:7: overlays.rules[4]: warning: exit-offer (priority 10) is for every visitor new-arrivals is for"; !strings.Contains(out.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, out.String())
	}
	if want := "rules.yaml: ok, 1 warning"; !strings.Contains(out.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, out.String())
	}
	for _, want := range []string{
		bad + ":4:14: navigation.container: bad CSS selector",
		bad + ":5:3: navigation.itme: unknown field",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
}

func TestUsageAndVersion(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run([]string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "shopedge ") {
		t.Errorf("version: code %d, out %q", code, out.String())
	}
	if code := run([]string{"frobnicate"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "unknown command") {
		t.Errorf("unknown command: code %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"serve"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "-config FILE") {
		t.Errorf("serve without -config: code %d, stderr %q", code, errOut.String())
	}
}

func TestServeNeedsSecret(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("upstream:\n  url: http://127.0.0.1:1\nserver:\n  listen: 127.0.0.1:0\nidentity:\n  keys:\n    - id: a\n      secret_env: SHOPEDGE_TEST_UNSET_SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"serve", "-config", cfg}, &out, &errOut); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if want := cfg + ":8:19: identity.keys[0].secret_env: environment variable SHOPEDGE_TEST_UNSET_SECRET is not set"; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr %q lacks %q", errOut.String(), want)
	}
}

// TestServeRefusesShortAdminToken: an admin token short enough to guess
// stops serve before anything listens, saying which variable and how long.
func TestServeRefusesShortAdminToken(t *testing.T) {
	t.Setenv("SHOPEDGE_TEST_SECRET", "0123456789abcdef0123456789abcdef0123")
	t.Setenv("SHOPEDGE_TEST_ADMIN", "sesame")
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	conf := "upstream:\n  url: http://127.0.0.1:1\nserver:\n  listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\n  token_env: SHOPEDGE_TEST_ADMIN\n" +
		"identity:\n  keys:\n    - id: a\n      secret_env: SHOPEDGE_TEST_SECRET\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"serve", "-config", cfg, "-watch=false"}, &out, &errOut); code != 1 {
		t.Fatalf("exit code %d, want 1; stdout %q", code, out.String())
	}
	if want := "the admin token in SHOPEDGE_TEST_ADMIN is 6 bytes; use at least 16"; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr %q lacks %q", errOut.String(), want)
	}
	if strings.Contains(errOut.String(), "sesame") {
		t.Errorf("stderr shows the token: %q", errOut.String())
	}
}

// binaryDir holds the binary the tests build, removed when they end.
var binaryDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		_ = os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// binary builds shopedge once for the tests that run it as a process.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "shopedge-test")
	if err != nil {
		return "", err
	}
	binaryDir = dir
	bin := filepath.Join(dir, "shopedge")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &buildError{out}
	}
	return bin, nil
})

type buildError struct{ out []byte }

func (e *buildError) Error() string { return "go build: " + string(e.out) }

// process runs shopedge with args and reads its output lines.
type process struct {
	cmd   *exec.Cmd
	lines chan string
	mu    sync.Mutex
	log   strings.Builder
}

func start(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: exec.Command(bin, args...), lines: make(chan string, 100)}
	p.cmd.Env = append(os.Environ(), env...)
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		w.Close()
	})
	return p
}

// waitFor returns the first match of re in the process's output.
func (p *process) waitFor(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l := <-p.lines:
			if m := rx.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-deadline:
			p.mu.Lock()
			defer p.mu.Unlock()
			t.Fatalf("no line matching %q; output:\n%s", re, p.log.String())
		}
	}
}

// TestDemo runs the README's first command and browses the demo the way
// the README says.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	p := start(t, nil, "demo", "-listen", "127.0.0.1:0", "-shop-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0")
	proxyURL := p.waitFor(t, `shopedge \(open me\):\s+(http://\S+)/`)[1]
	v := proxytest.NewVisitor(t, proxyURL)
	get := func(path string) string { return v.Get(path).Body }
	home := get("/")
	products := regexp.MustCompile(`href="(/p/[^"]+)"`).FindAllStringSubmatch(get("/c/bags-accessories"), -1)
	for _, m := range products[:6] { // each card links twice
		get(m[1])
	}
	if nav := proxytest.NavOrder(home); len(nav) == 0 || nav[0] != "/c/women" {
		t.Fatalf("new visitor's first menu entry = %v, want /c/women", nav)
	}
	if nav := proxytest.NavOrder(get("/")); len(nav) == 0 || nav[0] != "/c/bags-accessories" {
		t.Errorf("after browsing bags, first menu entry = %v", nav)
	}
	// The demo's experiments, read from its admin listener by report: the
	// visitor above is in one arm of each.
	admin := p.waitFor(t, `admin:\s+(http://\S+)/metrics\s+\(Authorization: Bearer (\S+)\)`)
	var out, errOut bytes.Buffer
	if code := run([]string{"report", "-admin", admin[1], "-token", admin[2]}, &out, &errOut); code != 0 {
		t.Fatalf("report: exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"popular-vs-trending", "exit-offer-holdout", "trending", "control"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("report:\n%s", out.String())
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("demo did not stop cleanly: %v", err)
	}
}

// TestServeReload: SIGHUP applies a good configuration and keeps the old
// one, with a log line per problem, when the new file is bad; a setting
// that needs a restart keeps its running value and is named (issue 9).
// Every outcome is counted in the metrics.
func TestServeReload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	up := start(t, nil, "demo", "-listen", "127.0.0.1:0", "-shop-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0")
	shopURL := up.waitFor(t, `demo shop:\s+(http://\S+)/`)[1]
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "shop.yaml")
	write := func(s string) {
		if err := os.WriteFile(cfgPath, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := "upstream:\n  url: " + shopURL + "\nserver:\n  listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\nlog:\n  access: true\n"
	write(base)
	p := start(t, []string{"SHOPEDGE_SECRET=0123456789abcdef0123456789abcdef0123", "SHOPEDGE_ADMIN_TOKEN=admin-test-token"}, "serve", "-config", cfgPath, "-watch=false")
	proxyURL := p.waitFor(t, `serving \S+ on (http://\S+)`)[1]
	metricsURL := p.waitFor(t, `admin: (http://\S+/metrics)`)[1]
	resp, err := http.Get(proxyURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	p.waitFor(t, `msg=request .*path=/ status=200`)

	write(base + "navigation:\n  container: 'nav >> ul'\n  min_interest: lots\n")
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitFor(t, `level=ERROR msg="reload: configuration problem" file=\S+shop.yaml line=10 col=14 field=navigation.container problem="bad CSS selector`)
	p.waitFor(t, `level=ERROR msg="reload: configuration problem" file=\S+shop.yaml line=11 col=17 field=navigation.min_interest problem=`)
	p.waitFor(t, `level=ERROR msg="reload failed; the previous configuration stays in force" problems=2`)
	resp, err = http.Get(proxyURL + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after a failed reload: %v %v", err, resp)
	}
	resp.Body.Close()

	write(strings.Replace(base, "access: true", "access: false", 1) + "navigation:\n  container: 'nav ul'\n")
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitFor(t, `level=INFO msg="configuration reloaded" config=\S+ result=success`)

	write(strings.Replace(base, "server:\n", "server:\n  read_timeout: 3s\n", 1))
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitFor(t, `level=WARN msg=".*needs a restart.*" field=server.read_timeout old=10s new=3s file=\S+shop.yaml line=4`)
	p.waitFor(t, `level=WARN msg="configuration reloaded, except settings that need a restart" config=\S+ result=partial kept=1`)

	req, _ := http.NewRequest("GET", metricsURL, nil)
	req.Header.Set("Authorization", "Bearer admin-test-token")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`shopedge_config_reloads_total{result="success"} 1`,
		`shopedge_config_reloads_total{result="partial"} 1`,
		`shopedge_config_reloads_total{result="failure"} 1`,
		"shopedge_config_last_reload_successful 1",
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

// TestEval runs `shopedge eval` on the sample clickstream.
func TestEval(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run([]string{"eval", "-events", "../../proxy/recommend/testdata/sample.csv"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"strategy", "HR@10", "MRR@20", "popularity baseline", "sknn baseline", "session"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := run([]string{"eval", "-json", "-events", "../../proxy/recommend/testdata/sample.csv"}, &out, &errOut); code != 0 {
		t.Fatalf("-json: exit %d: %s", code, errOut.String())
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) < 3 {
		t.Fatalf("-json output: %v\n%s", err, out.String())
	}
	for _, k := range []string{"strategy", "predictions", "hr10", "mrr10", "hr20", "mrr20", "coverage", "us_per_prediction"} {
		if _, ok := rows[0][k]; !ok {
			t.Errorf("JSON rows lack %q: %v", k, rows[0])
		}
	}
	if code := run([]string{"eval"}, &out, &errOut); code != 2 {
		t.Errorf("eval without -events: exit %d, want 2", code)
	}
}
