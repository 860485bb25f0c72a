package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/live"
	"shopedge/proxy/profile"
	"shopedge/proxy/store"
	"shopedge/rules"
)

// sections are the parts of the proxy's state a snapshot holds, in the
// order written.
func (p *Proxy) sections() []store.Section {
	return []store.Section{
		{Name: "profiles", Write: p.profiles.WriteSnapshot, Read: p.profiles.ReadSnapshot},
		{Name: "catalog", Write: p.catalog.WriteSnapshot, Read: p.catalog.ReadSnapshot},
		{Name: "engine", Write: p.rec.WriteSnapshot, Read: func(r *bufio.Reader) error { return p.rec.ReadSnapshot(r) }},
		{Name: "views", Write: p.views.WriteSnapshot, Read: p.views.ReadSnapshot},
		{Name: "carts", Write: p.carts.WriteSnapshot, Read: p.carts.ReadSnapshot},
		{Name: "experiments", Write: p.experiments.writeSnapshot, Read: p.experiments.readSnapshot},
	}
}

// SaveSnapshot writes the whole state to the configuration's
// store.snapshot file, atomically. It returns the bytes written; with no
// snapshot file configured it writes nothing.
func (p *Proxy) SaveSnapshot() (int64, error) {
	cfg := p.conf.Load().cfg
	path := p.snapshot
	if path == "" {
		return 0, nil
	}
	t0 := time.Now()
	n, err := store.Save(path, owner(cfg), p.sections())
	if err != nil {
		p.metrics.snapshots.failed.Add(1)
		return 0, fmt.Errorf("proxy: %w", err)
	}
	p.metrics.snapshots.saved.Add(1)
	p.log.Debug("snapshot written", "file", path, "bytes", n, "took", time.Since(t0).Round(time.Millisecond))
	return n, nil
}

// restore reads the snapshot at path into the proxy's (empty) state. A
// missing file is a first start; a refused one is logged, and the proxy
// starts empty.
func (p *Proxy) restore(cfg *rules.Compiled, path string) {
	t0 := time.Now()
	store.RemoveTemporary(path) // left by a save a crash cut short
	err := store.Load(path, owner(cfg), p.sections())
	switch {
	case err == nil:
		p.log.Info("snapshot restored", "file", path, "profiles", p.profiles.Stats().Held,
			"products", p.catalog.Len(), "took", time.Since(t0).Round(time.Millisecond))
		return
	case errors.Is(err, fs.ErrNotExist):
		p.log.Info("no snapshot yet: starting empty", "file", path)
		return
	}
	// Kept aside, not overwritten by the next save: it may be a good
	// snapshot a new build or configuration cannot read.
	aside := fmt.Sprintf("%s.refused-%d", path, time.Now().Unix())
	if err := os.Rename(path, aside); err != nil {
		aside = ""
	}
	p.log.Error("snapshot refused: starting empty", "file", path, "kept_as", aside, "err", err)
	if err := p.emptyState(cfg); err != nil {
		p.log.Error("starting empty", "err", err)
	}
}

// emptyState gives the proxy fresh, empty state: profiles, catalog,
// engine, live counts, experiment counts.
func (p *Proxy) emptyState(cfg *rules.Compiled) error {
	profiles, err := profile.NewStore(int64(cfg.Profiles.MaxMemory), cfg.Profiles.TTL.D())
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	p.profiles = profiles
	p.catalog = catalog.New(cfg.Catalog.MaxProducts)
	p.rec = newEngine(cfg.Recommendations)
	p.views = live.New(cfg.Catalog.MaxProducts)
	p.carts = live.New(cfg.Catalog.MaxProducts)
	p.experiments = experiments{}
	return nil
}

// owner names the shop a snapshot belongs to: its first public host name,
// else its upstream's host (without the port, so that a demo on another
// port keeps its state).
func owner(cfg *rules.Compiled) string {
	if len(cfg.Server.Hosts) > 0 {
		return cfg.Server.Hosts[0]
	}
	if u, err := url.Parse(cfg.Upstream.URL); err == nil {
		return u.Hostname()
	}
	return cfg.Upstream.URL
}
