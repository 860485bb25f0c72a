package proxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"shopedge/bench/shop"
	"shopedge/rules"
)

// logBuffer collects a logger's output; safe for the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the JSON log lines written so far whose msg matches.
func (b *logBuffer) lines(t *testing.T, msg *regexp.Regexp) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if s, _ := m["msg"].(string); msg.MatchString(s) {
			out = append(out, m)
		}
	}
	return out
}

// loggedShopEnv runs the demo shop with shopedge in front of it, logging
// in JSON to the returned buffer.
func loggedShopEnv(t *testing.T, mutate func(*rules.Config), now func() time.Time) (*env, *logBuffer) {
	t.Helper()
	s := shop.New(1)
	up := httptest.NewServer(s)
	t.Cleanup(up.Close)
	logs := &logBuffer{}
	e := startProxyLogged(t, demoConfig(t, up.URL, mutate), now, slog.New(slog.NewJSONHandler(logs, nil)))
	e.shop = s
	return e, logs
}

var keptMsg = regexp.MustCompile(`needs a restart`)

// keptLine returns the warning about field, failing when there is not
// exactly one.
func keptLine(t *testing.T, logs *logBuffer, field string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, l := range logs.lines(t, keptMsg) {
		if l["field"] == field {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("got %d warnings naming %s, want 1; log:\n%s", len(found), field, logs.buf.String())
	}
	return found[0]
}

// TestReloadKeepsRenamedCookie (issue 9): renaming identity.cookie in a
// reload is not half-applied. The running name stays, so a returning
// visitor keeps their id, and the warning names identity.cookie with its
// old and new value.
func TestReloadKeepsRenamedCookie(t *testing.T) {
	t.Parallel()
	e, logs := loggedShopEnv(t, nil, nil)
	v := e.visitor()
	first := v.get(e.url + "/")
	c := cookieNamed(first.resp, "se_vid")
	if c == nil {
		t.Fatalf("first visit set no se_vid cookie: %v", first.resp.Header["Set-Cookie"])
	}
	who, ok := e.proxy.ids.Verify(c.Value)
	if !ok {
		t.Fatal("the proxy's own cookie does not verify")
	}
	newBefore := e.proxy.metrics.newVisitors.Load()

	e.proxy.Reload(compile(t, demoConfig(t, e.upstream, func(c *rules.Config) { c.Identity.Cookie = "shopper" })))

	again := v.get(e.url + "/")
	if got := cookieNamed(again.resp, "shopper"); got != nil {
		t.Errorf("after the reload the visitor was given a %q cookie: a returning visitor became a new one", got.Name)
	}
	if c := cookieNamed(again.resp, "se_vid"); c != nil {
		if w, _ := e.proxy.ids.Verify(c.Value); w.ID != who.ID {
			t.Errorf("got visitor id %q after the reload, want %q", w.ID, who.ID)
		}
	}
	if got := e.proxy.metrics.newVisitors.Load(); got != newBefore {
		t.Errorf("got %d new visitors after the reload, want %d (the returning visitor recognised)", got, newBefore)
	}
	if got := e.proxy.Config().Identity.Cookie; got != "se_vid" {
		t.Errorf("got identity.cookie %q in force, want %q", got, "se_vid")
	}
	l := keptLine(t, logs, "identity.cookie")
	if l["old"] != "se_vid" || l["new"] != "shopper" || l["level"] != "WARN" {
		t.Errorf("got warning %v, want level WARN, old se_vid, new shopper", l)
	}
	if l["file"] != "configs/demo.yaml" || l["line"] != float64(17) {
		t.Errorf("got warning at %v:%v, want configs/demo.yaml:17", l["file"], l["line"])
	}
}

// TestReloadRestartOnly (issue 9): a reload that changes a restart-only
// setting keeps its running value (in Config, hence in any Server built
// later) and warns, naming the field; reloadable settings are applied.
func TestReloadRestartOnly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		field    string // the warning's field; "" for a reloadable setting
		old, new string
		change   func(*rules.Config)
		inForce  func(*rules.Config) any
		want     any
	}{
		{"read timeout", "server.read_timeout", "10s", "2s",
			func(c *rules.Config) { c.Server.ReadTimeout = rules.Duration(2 * time.Second) },
			func(c *rules.Config) any { return c.Server.ReadTimeout.D() }, 10 * time.Second},
		{"max request body", "server.max_request_body", "8MiB", "1KiB",
			func(c *rules.Config) { c.Server.MaxRequestBody = 1 << 10 },
			func(c *rules.Config) any { return int64(c.Server.MaxRequestBody) }, int64(8 << 20)},
		{"concurrency", "server.concurrency", "10000", "5",
			func(c *rules.Config) { c.Server.Concurrency = 5 },
			func(c *rules.Config) any { return c.Server.Concurrency }, 10000},
		{"tls", "server.tls", "off", "cert c.pem, key k.pem",
			func(c *rules.Config) { c.Server.TLS = &rules.TLS{Cert: "c.pem", Key: "k.pem"} },
			func(c *rules.Config) any { return c.Server.TLS == nil }, true},
		{"keys", "identity.keys", "[demo (secret_env SHOPEDGE_SECRET)]", "[k2 (secret_env NEW_SECRET), demo (secret_env SHOPEDGE_SECRET)]",
			func(c *rules.Config) {
				c.Identity.Keys = append([]rules.Key{{ID: "k2", SecretEnv: "NEW_SECRET"}}, c.Identity.Keys...)
			},
			func(c *rules.Config) any { return len(c.Identity.Keys) }, 1},
		{"profiles memory", "profiles.max_memory", "256MiB", "1GiB",
			func(c *rules.Config) { c.Profiles.MaxMemory = 1 << 30 },
			func(c *rules.Config) any { return int64(c.Profiles.MaxMemory) }, int64(256 << 20)},
		{"upstream timeout", "upstream.timeout", "10s", "1s",
			func(c *rules.Config) { c.Upstream.Timeout = rules.Duration(time.Second) },
			func(c *rules.Config) any { return c.Upstream.Timeout.D() }, 10 * time.Second},
		{"hosts are applied", "", "", "",
			func(c *rules.Config) { c.Server.Hosts = []string{"shop.example"} },
			func(c *rules.Config) any { return c.Server.Hosts }, []string{"shop.example"}},
		{"visit gap is applied", "", "", "",
			func(c *rules.Config) { c.Profiles.VisitGap = rules.Duration(time.Minute) },
			func(c *rules.Config) any { return c.Profiles.VisitGap.D() }, time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e, logs := loggedShopEnv(t, nil, nil)
			e.proxy.Reload(compile(t, demoConfig(t, e.upstream, c.change)))
			if got := c.inForce(e.proxy.Config().Config); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v in force, want %v", got, c.want)
			}
			if c.field == "" {
				if l := logs.lines(t, keptMsg); len(l) > 0 {
					t.Errorf("got warnings %v for a reloadable setting, want none", l)
				}
				return
			}
			l := keptLine(t, logs, c.field)
			if l["old"] != c.old || l["new"] != c.new {
				t.Errorf("got old %q new %q, want %q, %q", l["old"], l["new"], c.old, c.new)
			}
			if got := len(logs.lines(t, keptMsg)); got != 1 {
				t.Errorf("got %d warnings, want 1: only %s changed", got, c.field)
			}
		})
	}
}

// metricValue returns the value of one sample of the proxy's metrics.
func metricValue(t *testing.T, p *Proxy, sample string) string {
	t.Helper()
	var b bytes.Buffer
	p.metrics.WriteTo(&b, nil)
	for line := range strings.SplitSeq(b.String(), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			return v
		}
	}
	t.Fatalf("no sample %s in:\n%s", sample, b.String())
	return ""
}

// TestReloadMetrics (issue 9): each reload's outcome is counted, from 0,
// and the time of the last good one is kept.
func TestReloadMetrics(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	setClock := func(t time.Time) {
		mu.Lock()
		now = t
		mu.Unlock()
	}
	e, _ := loggedShopEnv(t, nil, clock)
	const ts = "shopedge_config_last_reload_success_timestamp_seconds"
	const okGauge = "shopedge_config_last_reload_successful"
	counts := func() [3]string {
		var c [3]string
		for i, r := range []string{"success", "partial", "failure"} {
			c[i] = metricValue(t, e.proxy, `shopedge_config_reloads_total{result="`+r+`"}`)
		}
		return c
	}
	check := func(step string, wantCounts [3]string, wantTS, wantOK string) {
		t.Helper()
		if got := counts(); got != wantCounts {
			t.Errorf("%s: got reloads success, partial, failure = %v, want %v", step, got, wantCounts)
		}
		if got := metricValue(t, e.proxy, ts); got != wantTS {
			t.Errorf("%s: got %s %s, want %s", step, ts, got, wantTS)
		}
		if got := metricValue(t, e.proxy, okGauge); got != wantOK {
			t.Errorf("%s: got %s %s, want %s", step, okGauge, got, wantOK)
		}
	}
	check("at start", [3]string{"0", "0", "0"}, "1700000000", "1")

	setClock(time.Unix(1_700_000_100, 0))
	e.proxy.Reload(compile(t, demoConfig(t, e.upstream, nil)))
	check("after a good reload", [3]string{"1", "0", "0"}, "1700000100", "1")

	setClock(time.Unix(1_700_000_200, 0))
	e.proxy.Reload(compile(t, demoConfig(t, e.upstream, func(c *rules.Config) { c.Server.ReadTimeout = rules.Duration(time.Second) })))
	check("after a partial reload", [3]string{"1", "1", "0"}, "1700000200", "1")

	setClock(time.Unix(1_700_000_300, 0))
	_, err := rules.Parse("bad.yaml", []byte("upstream:\n  url: ftp://x\n"))
	if err == nil {
		t.Fatal("bad.yaml loaded")
	}
	e.proxy.ReloadFailed(err)
	check("after a failed reload", [3]string{"1", "1", "1"}, "1700000200", "0")
}

// TestReloadFailedLogsEachProblem (issue 9): a configuration with several
// problems is logged one line per problem, with where it is as attributes,
// and no attribute spans lines.
func TestReloadFailedLogsEachProblem(t *testing.T) {
	t.Parallel()
	e, logs := loggedShopEnv(t, nil, nil)
	bad := "upstream:\n  url: ftp://shop\nserver:\n  read_timeout: soon\nnavigation:\n  container: 'nav >> ul'\n"
	_, err := rules.Parse("shop.yaml", []byte(bad))
	var probs rules.Problems
	if !errors.As(err, &probs) || len(probs) < 3 {
		t.Fatalf("got %v, want at least 3 problems", err)
	}
	e.proxy.ReloadFailed(err)
	e.proxy.ReloadFailed(errors.New("read config: open shop.yaml: permission denied\nsecond line"))

	lines := logs.lines(t, regexp.MustCompile(`^reload`))
	if got, want := len(lines), len(probs)+2; got != want {
		t.Fatalf("got %d log lines, want %d (one per problem, a summary, the read error):\n%s", got, want, logs.buf.String())
	}
	for i, pr := range probs {
		l := lines[i]
		want := map[string]any{"level": "ERROR", "file": "shop.yaml", "line": float64(pr.Line), "col": float64(pr.Col), "field": pr.Field, "problem": pr.Msg}
		for k, v := range want {
			if l[k] != v {
				t.Errorf("problem %d: got %s %v, want %v", i, k, l[k], v)
			}
		}
	}
	if got := lines[len(probs)]; got["problems"] != float64(len(probs)) || !strings.Contains(got["msg"].(string), "previous configuration stays") {
		t.Errorf("got summary %v, want the count of problems and that the previous configuration stays", got)
	}
	if got, want := lines[len(probs)+1]["err"], "read config: open shop.yaml: permission denied; second line"; got != want {
		t.Errorf("got err %q, want %q", got, want)
	}
	for _, l := range lines {
		for k, v := range l {
			if s, ok := v.(string); ok && strings.ContainsAny(s, "\r\n") {
				t.Errorf("attribute %s spans lines: %q", k, s)
			}
		}
	}
}

// setting is a field of a configuration, by its YAML path.
type setting struct {
	path string
	leaf bool // not a section nor a list of sections
}

// settingsOf lists every field of a configuration type by its YAML path,
// "[]" standing for every entry of a list. A section is a struct with
// YAML-named fields; everything else (durations, sizes, selectors, lists
// of values) is a leaf.
func settingsOf(t reflect.Type, prefix string, out *[]setting) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		ft := t.Field(i).Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case isSection(ft):
			*out = append(*out, setting{path: path})
			settingsOf(ft, path, out)
		case ft.Kind() == reflect.Slice && isSection(ft.Elem()):
			*out = append(*out, setting{path: path})
			settingsOf(ft.Elem(), path+"[]", out)
		default:
			*out = append(*out, setting{path: path, leaf: true})
		}
	}
}

func isSection(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := range t.NumField() {
		if yamlName(t.Field(i)) != "" {
			return true
		}
	}
	return false
}

// TestReloadClassifiesEveryField: every setting of rules.Config is either
// reloadable or restart-only, so that a new one cannot be forgotten by
// Reload. A failure here means: add the field to reloadable or
// restartOnly in reload.go (and, if restart-only, mark it "Restart to
// change." in configs/reference.yaml).
func TestReloadClassifiesEveryField(t *testing.T) {
	t.Parallel()
	var settings []setting
	settingsOf(reflect.TypeFor[rules.Config](), "", &settings)
	class := map[string]string{}
	for _, list := range []struct {
		name  string
		paths []string
	}{{"restartOnly", restartOnly}, {"reloadable", reloadable}} {
		for _, p := range list.paths {
			if c, dup := class[p]; dup {
				t.Errorf("%s is listed in %s and %s", p, c, list.name)
			}
			class[p] = list.name
		}
	}
	known := map[string]bool{}
	for _, s := range settings {
		known[s.path] = true
	}
	// A leaf is classified itself or by an ancestor classified whole
	// (server.tls, identity.keys).
	for _, s := range settings {
		if !s.leaf {
			continue
		}
		found := false
		for q := s.path; q != ""; q = parent(q) {
			if class[q] != "" {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s is neither reloadable nor restart-only: add it to one of the lists in proxy/reload.go", s.path)
		}
	}
	for p, c := range class {
		if !known[p] {
			t.Errorf("%s (in %s) is not a field of rules.Config", p, c)
		}
	}
	for _, p := range restartOnly {
		if strings.Contains(p, "[]") {
			t.Errorf("restart-only %s is inside a list: classify the whole list", p)
		}
		if known[p] {
			if _, ok := fieldByPath(reflect.ValueOf(rules.Config{}), p); !ok {
				t.Errorf("restart-only %s cannot be found by fieldByPath (behind a pointer?)", p)
			}
		}
		// Old and new values of restart-only settings are logged.
		last := p[strings.LastIndexByte(p, '.')+1:]
		if strings.Contains(last, "secret") || strings.Contains(last, "token") || strings.Contains(last, "password") {
			if !strings.HasSuffix(last, "_env") && !strings.HasSuffix(last, "_file") {
				t.Errorf("restart-only %s looks like a secret: its value would be logged on reload", p)
			}
		}
	}
}

func parent(p string) string {
	i := strings.LastIndexByte(p, '.')
	if i < 0 {
		return ""
	}
	return strings.TrimSuffix(p[:i], "[]")
}

const restartMarker = "Restart to change."

// TestReferenceMarksRestartOnly: configs/reference.yaml says "Restart to
// change." above every restart-only setting it shows, and above no other.
func TestReferenceMarksRestartOnly(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../configs/reference.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	marked := map[string]bool{}
	present := map[string]bool{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path+"[]")
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				present[p] = true
				if strings.Contains(k.HeadComment, restartMarker) || strings.Contains(k.LineComment, restartMarker) {
					marked[p] = true
				}
				walk(n.Content[i+1], p)
			}
		}
	}
	walk(&root, "")
	for _, p := range restartOnly {
		if present[p] && !marked[p] {
			t.Errorf("reference.yaml: %s needs a restart to change; say %q in its comment", p, restartMarker)
		}
	}
	for p := range marked {
		if !slices.Contains(restartOnly, p) {
			t.Errorf("reference.yaml: %s is marked %q but a reload applies it", p, restartMarker)
		}
	}
	if bytes.Contains(data, []byte("(restart)")) {
		t.Errorf("reference.yaml still says (restart); the marker is %q, on each field", restartMarker)
	}
}
