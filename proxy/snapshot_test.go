package proxy

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shopedge/proxy/store"
	"shopedge/rules"
)

// TestSnapshotRestart (issue 13): a proxy that saved its state and a new
// one started from the file are the same to a visitor: the profile, the
// catalog and the engine come back (the home page shows the same recently
// viewed block), and so do experiment counts. A truncated file is refused
// with a log line and the new proxy starts empty.
func TestSnapshotRestart(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "state.snap")
	snap := func(c *rules.Config) {
		c.Store.Snapshot = file
		c.Experiments.GlobalControl = 1 // counted, so the counts have something to keep
	}
	e := newShopEnv(t, snap)
	v := e.visitor()
	products := e.productsIn("shoes", 3)
	for _, p := range products {
		v.get(e.url + p)
	}
	before := v.get(e.url + "/")
	block := recentBlock(before.body)
	if block == "" {
		t.Fatalf("no recently viewed block before the restart:\n%s", before.body)
	}
	held := e.proxy.profiles.Stats().Held
	engine := e.proxy.rec.Stats()
	views := e.proxy.views.Len()
	if engine.Items == 0 || views == 0 {
		t.Fatalf("nothing learned before the restart: engine %+v, %d live counters", engine, views)
	}
	counts, _ := e.proxy.experiments.reports(context.Background(), e.proxy.conf.Load().cfg)
	n, err := e.proxy.SaveSnapshot()
	if err != nil || n == 0 {
		t.Fatalf("save: %d bytes, %v", n, err)
	}

	// A new proxy from the file, in front of the same shop.
	var logs logBuffer
	b := startProxyLogged(t, demoConfig(t, e.upstream, snap), nil, slog.New(slog.NewJSONHandler(&logs, nil)))
	if got := b.proxy.profiles.Stats().Held; got != held {
		t.Errorf("profiles held after the restart: %d, want %d", got, held)
	}
	if got := b.proxy.rec.Stats(); got.Items != engine.Items || got.Sessions != engine.Sessions {
		t.Errorf("engine after the restart %+v, want %+v", got, engine)
	}
	if got := b.proxy.views.Len(); got != views {
		t.Errorf("live counters after the restart: %d, want %d", got, views)
	}
	if got, _ := b.proxy.experiments.reports(context.Background(), b.proxy.conf.Load().cfg); got[0].Arms[0].Visitors+got[0].Arms[1].Visitors != counts[0].Arms[0].Visitors+counts[0].Arms[1].Visitors {
		t.Errorf("experiment counts after the restart %+v, want %+v", got[0].Arms, counts[0].Arms)
	}
	after := v.get(b.url + "/")
	if got := recentBlock(after.body); got != block {
		t.Errorf("recently viewed after the restart:\n%s\nwant, as before:\n%s", got, block)
	}
	if !strings.Contains(logs.String(), "snapshot restored") {
		t.Errorf("no restore logged:\n%s", logs.String())
	}

	// Cut short: refused, logged, and the proxy starts empty.
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	var logs2 logBuffer
	c := startProxyLogged(t, demoConfig(t, e.upstream, snap), nil, slog.New(slog.NewJSONHandler(&logs2, nil)))
	if got := c.proxy.profiles.Stats().Held; got != 0 {
		t.Errorf("a truncated snapshot restored %d profiles", got)
	}
	if c.proxy.catalog.Len() != 0 {
		t.Errorf("a truncated snapshot left %d products", c.proxy.catalog.Len())
	}
	if !strings.Contains(logs2.String(), "snapshot refused: starting empty") {
		t.Errorf("the refusal is not logged:\n%s", logs2.String())
	}
	if home := v.get(c.url + "/"); recentBlock(home.body) != "" {
		t.Error("recently viewed from a refused snapshot")
	}
	if kept, _ := filepath.Glob(file + ".refused-*"); len(kept) != 1 {
		t.Errorf("the refused snapshot was not kept aside: %v", kept)
	}

	// Whole, with a valid checksum, but its last section bad: the
	// sections before it were read, and must be forgotten.
	bad := b.proxy.sections()
	bad[len(bad)-1].Write = func(w io.Writer) error { _, err := w.Write([]byte{0x05, '{', '{', '{', '{', '{'}); return err }
	if _, err := store.Save(file, owner(b.proxy.conf.Load().cfg), bad); err != nil {
		t.Fatal(err)
	}
	var logs3 logBuffer
	d := startProxyLogged(t, demoConfig(t, e.upstream, snap), nil, slog.New(slog.NewJSONHandler(&logs3, nil)))
	if got := d.proxy.profiles.Stats().Held; got != 0 || d.proxy.catalog.Len() != 0 || d.proxy.rec.Stats().Items != 0 {
		t.Errorf("a snapshot refused at its last section left %d profiles, %d products, %d engine items", got, d.proxy.catalog.Len(), d.proxy.rec.Stats().Items)
	}
	if !strings.Contains(logs3.String(), "section experiments") {
		t.Errorf("the refusal does not name the section:\n%s", logs3.String())
	}
}

// recentBlock is the recently viewed block of a page, or "".
func recentBlock(body string) string {
	i := strings.Index(body, `data-se-block="recently-viewed"`)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(body[:i], "<section")
	end := strings.Index(body[i:], "</section>")
	if start < 0 || end < 0 {
		return ""
	}
	return body[start : i+end]
}
