package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"shopedge/rules"

	"github.com/valyala/fasthttp"
)

// A reload puts a new configuration in force for the requests that start
// after it, and never half-applies a setting: every setting is either
// reloadable (read through the config in force on each request, or
// rebuilt by newConfig) or restart-only (built into something once, when the proxy
// starts: the listener, the fasthttp.Server, the upstream pool, the identity
// issuer, the memory-bounded stores). A restart-only setting that the new
// file changes keeps its running value: Reload copies the old value into
// the configuration it puts in force and reports the setting (KeptSetting),
// so that Config always says what is in force and the file's value waits
// for the next start.
//
// Every field of rules.Config is in exactly one of the two lists below, by
// its YAML path ("[]" stands for every entry of a list);
// TestReloadClassifiesEveryField fails for a field in neither, so a new
// field cannot be forgotten. A restart-only entry names a field that is
// compared and kept whole (server.tls, identity.keys), never one inside a
// list. configs/reference.yaml marks each restart-only field with
// "Restart to change." (TestReferenceMarksRestartOnly checks it).

// restartOnly are the settings a reload keeps at their running value.
// Their old and new values are logged: none may hold a secret (key
// secrets are named by secret_env and secret_file, never written here).
var restartOnly = []string{
	// The upstream client and its connection pool are built by New.
	"upstream.url", "upstream.host_header", "upstream.dial_timeout", "upstream.timeout",
	"upstream.max_conns", "upstream.max_conn_wait", "upstream.max_idle_conn_duration",
	"upstream.insecure_skip_verify",
	// The listener and the fasthttp.Server: its fields cannot change
	// while it serves.
	"server.listen", "server.read_timeout", "server.write_timeout", "server.idle_timeout",
	"server.max_conns_per_ip", "server.concurrency", "server.max_request_body",
	"server.read_buffer_size", "server.tls",
	// The process-wide memory limit is set once, when the proxy starts.
	"server.memory_limit",
	// The admin listener and its token are set up when serving starts.
	"admin.listen", "admin.token_env",
	// Sized caches and stores are allocated by New.
	"limits.page_cache", "profiles.max_memory", "profiles.ttl", "catalog.max_products",
	// The snapshot is read when the proxy starts, and its writer started.
	"store.snapshot", "store.snapshot_interval",
	// The shared store is dialled, and its work started, by New.
	"store.url", "store.cluster", "store.tls.ca_file", "store.tls.cert_file", "store.tls.key_file",
	"store.tls.server_name", "store.prefix", "store.budget", "store.timeout", "store.flush_interval",
	"store.backlog",
	"recommendations.max_products", "recommendations.neighbours", "recommendations.max_sessions",
	"recommendations.sessions_per_product", "recommendations.half_life",
	"recommendations.trending_half_life",
	// The identity issuer holds the keys and lifetimes. The cookie's name
	// stays too: renamed, every returning visitor would become a new one.
	"identity.cookie", "identity.https_only", "identity.ttl", "identity.refresh", "identity.keys",
	// The logger is built once, by the command.
	"log.level", "log.format",
}

// reloadable are the settings a reload applies, to the requests that start
// after it.
var reloadable = append(experimentFields(), []string{
	"server.hosts", "server.trusted_proxies", "server.underscores_in_headers",
	"limits.max_rewrite_body", "limits.gzip_level", "limits.brotli_level",
	"identity.customer_cookie", "identity.consent",
	"profiles.visit_gap", "profiles.interest_half_life",
	"catalog.asset_hosts",
	"tracking.bot_agents",
	"pages[].type", "pages[].path", "pages[].query",
	"events.cart_add[].path", "events.cart_add[].method", "events.cart_add[].product_field",
	"events.cart_add[].quantity_field",
	"events.purchase.selector", "events.purchase.pattern", "events.purchase.currency",
	"navigation.container", "navigation.item", "navigation.min_interest", "navigation.max_promoted",
	"recommendations.attribution_param", "attribution.window",
	"recommendations.blocks[].id", "recommendations.blocks[].pages", "recommendations.blocks[].selector",
	"recommendations.blocks[].position", "recommendations.blocks[].strategy",
	"recommendations.blocks[].fallback", "recommendations.blocks[].count", "recommendations.blocks[].min",
	"recommendations.blocks[].title", "recommendations.blocks[].personal",
	"recommendations.blocks[].template",
	"search.results", "search.item",
	"overlays.prefix", "overlays.min_gap",
	"overlays.theme.accent", "overlays.theme.accent_text", "overlays.theme.background", "overlays.theme.text",
	"overlays.rules[].id", "overlays.rules[].kind", "overlays.rules[].pages", "overlays.rules[].segments",
	"overlays.rules[].devices", "overlays.rules[].priority", "overlays.rules[].title",
	"overlays.rules[].text", "overlays.rules[].code", "overlays.rules[].button", "overlays.rules[].link",
	"overlays.rules[].cart_url", "overlays.rules[].dwell", "overlays.rules[].delay",
	"overlays.rules[].depth", "overlays.rules[].min_carts_left", "overlays.rules[].within",
	"overlays.rules[].strategy", "overlays.rules[].fallback", "overlays.rules[].count",
	"overlays.rules[].starts", "overlays.rules[].ends", "overlays.rules[].cap.per_visit",
	"overlays.rules[].cap.per_day", "overlays.rules[].cap.dismiss_for", "overlays.rules[].template",
	"overlays.banners[].id", "overlays.banners[].kind", "overlays.banners[].pages",
	"overlays.banners[].selector", "overlays.banners[].position", "overlays.banners[].count",
	"overlays.banners[].min", "overlays.banners[].threshold", "overlays.banners[].currency",
	"overlays.banners[].text", "overlays.banners[].reached", "overlays.banners[].empty",
	"log.access",
	// Segments, and who each action is for.
	"segments", "time_zone", "navigation.segments", "navigation.exclude", "search.segments", "search.exclude",
	"recommendations.blocks[].segments", "recommendations.blocks[].exclude", "overlays.rules[].exclude",
	"overlays.banners[].segments", "overlays.banners[].exclude",
	"place.country_header", "place.edge_sets_header",
	// Experiments: a reload keeps every count (by experiment name and
	// seed) and every visitor's arm; a new seed starts afresh. Each
	// action's experiment fields: experimentFields.
	"experiments.global_control", "experiments.seed",
	// The fields every action shares: priority, enabled, schedule.
	"navigation.priority", "navigation.enabled", "navigation.starts", "navigation.ends", "navigation.pages",
	"search.priority", "search.enabled", "search.starts", "search.ends",
	"recommendations.blocks[].priority", "recommendations.blocks[].enabled",
	"recommendations.blocks[].starts", "recommendations.blocks[].ends",
	"overlays.rules[].enabled",
	"overlays.banners[].priority", "overlays.banners[].enabled", "overlays.banners[].starts", "overlays.banners[].ends",
	// Content swaps, every field of each.
	"content",
}...)

// KeptSetting is a restart-only setting a reload did not apply: the file
// changes it, the proxy keeps running with the old value until a restart.
type KeptSetting struct {
	// Field is the setting's path as written in the YAML, like
	// "identity.cookie".
	Field string `json:"field"`
	// Old is the value in force, which stays; New is the file's value,
	// which takes effect at the next start. Secrets are never shown.
	Old string `json:"old"`
	New string `json:"new"`
	// File and Line are where the new value is written, or the section
	// holding it when the file leaves it out (Line 0: not in the file).
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

// reloadResults are a reload's outcomes, the values of the result label
// of shopedge_config_reloads_total.
var reloadResults = []string{"success", "partial", "failure"}

// reloads count the outcomes of reloads and remember the last good one.
type reloads struct {
	mu         sync.Mutex
	counts     map[string]int64
	lastGood   time.Time // when the configuration in force was loaded
	lastFailed bool      // the last reload attempt failed
	// last are the latest reloads, oldest first, at most reloadsKept.
	last []ReloadRecord
}

// reloadsKept is how many reloads the console lists.
const reloadsKept = 10

// ReloadRecord is one reload, as the console lists it.
type ReloadRecord struct {
	At     time.Time
	Result string // success, partial or failure
	Detail string // what was kept or what was wrong, on one line
}

// reloaded counts a reload's outcome at t; detail says why, in a line.
func (r *reloads) reloaded(result string, t time.Time, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts = map[string]int64{}
	}
	r.counts[result]++
	if len(r.last) == reloadsKept {
		r.last = append(r.last[:0], r.last[1:]...)
	}
	r.last = append(r.last, ReloadRecord{At: t, Result: result, Detail: detail})
	r.lastFailed = result == "failure"
	if !r.lastFailed {
		r.lastGood = t
	}
}

// loaded records that the first configuration went in force at t.
func (r *reloads) loaded(t time.Time) {
	r.mu.Lock()
	r.lastGood = t
	r.mu.Unlock()
}

// Reload puts a new configuration in force for the requests that start
// after it. Restart-only settings (see configs/reference.yaml) that cfg
// changes keep their running value: Reload puts a copy of cfg in force
// with the old values, logs a warning per setting, and returns them. The
// outcome is counted in shopedge_config_reloads_total and logged.
func (p *Proxy) Reload(cfg *rules.Compiled) []KeptSetting {
	kept, err := p.swap(cfg)
	if err != nil {
		p.ReloadFailed(fmt.Errorf("reload: %w", err))
		return nil
	}
	result := "success"
	if len(kept) > 0 {
		result = "partial"
	}
	detail := ""
	for i, k := range kept {
		if i > 0 {
			detail += "; "
		}
		detail += k.Field + " needs a restart (kept " + k.Old + ")"
	}
	p.metrics.reloads.reloaded(result, p.now(), detail)
	for _, k := range kept {
		p.log.Warn("reload: this setting needs a restart to change; its running value is kept",
			"field", k.Field, "old", k.Old, "new", k.New, "file", k.File, "line", k.Line)
	}
	if len(kept) > 0 {
		p.log.Warn("configuration reloaded, except settings that need a restart", "config", cfg.File(), "result", result, "kept", len(kept))
	} else {
		p.log.Info("configuration reloaded", "config", cfg.File(), "result", result)
	}
	return kept
}

// swap puts cfg in force, restart-only settings kept at their running
// value, one reload at a time.
func (p *Proxy) swap(cfg *rules.Compiled) ([]KeptSetting, error) {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	next := *cfg.Config // a copy of the settings, to keep what needs a restart
	kept := keepRestartOnly(p.conf.Load().cfg.Config, &next)
	if len(kept) > 0 {
		// What is derived from a kept setting (the cookie's name from
		// identity.cookie) is derived again.
		var err error
		if cfg, err = rules.Compile(&next); err != nil {
			return nil, err
		}
	}
	p.setConfig(cfg)
	return kept, nil
}

// ReloadFailed counts a reload whose configuration could not be loaded
// (read, parsed, validated), and logs why: one line per problem of a
// rules.Problems, with its file, line, column and field as attributes. The
// configuration in force stays.
func (p *Proxy) ReloadFailed(err error) {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	p.metrics.reloads.reloaded("failure", p.now(), oneLine(err.Error()))
	var probs rules.Problems
	if !errors.As(err, &probs) {
		p.log.Error("reload failed; the previous configuration stays in force", "err", oneLine(err.Error()))
		return
	}
	for _, pr := range probs {
		p.log.Error("reload: configuration problem", "file", pr.File, "line", pr.Line, "col", pr.Col,
			"field", pr.Field, "problem", oneLine(pr.Msg))
	}
	p.log.Error("reload failed; the previous configuration stays in force", "problems", len(probs))
}

// oneLine keeps a log attribute on one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}

// keepRestartOnly copies into cfg the running value of every restart-only
// setting cfg changes, and returns what it kept.
func keepRestartOnly(old, cfg *rules.Config) []KeptSetting {
	ov, nv := reflect.ValueOf(old).Elem(), reflect.ValueOf(cfg).Elem()
	var kept []KeptSetting
	for _, path := range restartOnly {
		o, ok := fieldByPath(ov, path)
		if !ok {
			continue // a field of another version; TestReloadClassifiesEveryField names it
		}
		n, _ := fieldByPath(nv, path)
		if reflect.DeepEqual(o.Interface(), n.Interface()) {
			continue
		}
		k := KeptSetting{Field: path, Old: oneLine(showSetting(o)), New: oneLine(showSetting(n))}
		pr := cfg.Problem(path, "")
		k.File, k.Line = pr.File, pr.Line
		kept = append(kept, k)
		n.Set(o)
	}
	return kept
}

// fieldByPath finds a setting by its YAML path, like "server.read_timeout",
// through nested sections (not through pointers or lists).
func fieldByPath(v reflect.Value, path string) (reflect.Value, bool) {
	for name := range strings.SplitSeq(path, ".") {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		i, ok := fieldIndex(v.Type(), name)
		if !ok {
			return reflect.Value{}, false
		}
		v = v.Field(i)
	}
	return v, true
}

// fieldIndex finds the field of a struct type whose YAML name is name.
func fieldIndex(t reflect.Type, name string) (int, bool) {
	for i := range t.NumField() {
		if yamlName(t.Field(i)) == name {
			return i, true
		}
	}
	return 0, false
}

// yamlName is the field's key in the YAML, or "" for a field that has none.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// showSetting writes a setting's value for a log line, as it would be
// written in the YAML.
func showSetting(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case rules.Duration:
		return x.D().String()
	case rules.ByteSize:
		return showSize(int64(x))
	case *rules.TLS:
		if x == nil {
			return "off"
		}
		return "cert " + x.Cert + ", key " + x.Key
	case []rules.Key:
		// Names of keys and of where their secrets are; never a secret.
		parts := make([]string, len(x))
		for i, k := range x {
			switch {
			case k.SecretEnv != "":
				parts[i] = k.ID + " (secret_env " + k.SecretEnv + ")"
			default:
				parts[i] = k.ID + " (secret_file " + k.SecretFile + ")"
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case string:
		return x
	}
	return fmt.Sprint(v.Interface())
}

func showSize(n int64) string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.mult == 0 {
			return fmt.Sprintf("%d%s", n/u.mult, u.suffix)
		}
	}
	return fmt.Sprint(n)
}

// adminReload answers POST /reload: the configuration is read again (the
// command's Options.Load) and, if it loads, put in force, as on SIGHUP.
// 200 with what needed a restart and kept its value, or 422 with every
// problem (the old configuration stays in force).
func (p *Proxy) adminReload(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		adminError(ctx, "POST to reload\n", fasthttp.StatusMethodNotAllowed)
		return
	}
	if p.load == nil {
		adminError(ctx, "this proxy was started without a configuration file to read again\n", fasthttp.StatusNotImplemented)
		return
	}
	type answer struct {
		Result   string        `json:"result"`
		Kept     []KeptSetting `json:"kept,omitempty"`
		Problems []string      `json:"problems,omitempty"`
	}
	var a answer
	cfg, err := p.load()
	if err != nil {
		p.ReloadFailed(err)
		a.Result = "failure"
		var probs rules.Problems
		if errors.As(err, &probs) {
			for _, pr := range probs {
				a.Problems = append(a.Problems, pr.Error())
			}
		} else {
			a.Problems = []string{err.Error()}
		}
		ctx.SetStatusCode(fasthttp.StatusUnprocessableEntity)
	} else {
		a.Kept = p.Reload(cfg)
		a.Result = "success"
		if len(a.Kept) > 0 {
			a.Result = "partial"
		}
	}
	b, _ := json.MarshalIndent(a, "", "  ")
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

// experimentFields are the fields of every action's experiment, all
// reloadable.
func experimentFields() []string {
	var out []string
	for _, action := range []string{"navigation", "search", "recommendations.blocks[]", "overlays.rules[]", "overlays.banners[]", "content[]"} {
		for _, f := range []string{"name", "control", "seed", "variants[].name", "variants[].weight", "variants[].strategy",
			"variants[].fallback", "variants[].title", "variants[].text", "variants[].code"} {
			out = append(out, action+".experiment."+f)
		}
	}
	return out
}
