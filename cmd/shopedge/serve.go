package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy"
	"shopedge/proxy/console"
	"shopedge/proxy/identity"
	"shopedge/rules"
)

// overrides are command-line settings that win over the file, on start and
// on every reload.
type overrides struct {
	listen, upstream, adminListen, snapshot, store string
}

// compile returns c with the overrides applied, compiled again; c itself
// is left as it is.
func (o overrides) compile(c *rules.Compiled) (*rules.Compiled, error) {
	if o == (overrides{}) {
		return c, nil
	}
	cfg := *c.Config
	if err := o.apply(&cfg); err != nil {
		return nil, err
	}
	return rules.Compile(&cfg)
}

func (o overrides) apply(cfg *rules.Config) error {
	if o.listen != "" {
		if _, _, err := net.SplitHostPort(o.listen); err != nil {
			return fmt.Errorf("-listen %q: want host:port", o.listen)
		}
		cfg.Server.Listen = o.listen
	}
	if o.snapshot != "" {
		cfg.Store.Snapshot = o.snapshot
	}
	if o.store != "" {
		cfg.Store.URL = o.store
	}
	if o.upstream != "" {
		if _, err := rules.ParseUpstreamURL(o.upstream); err != nil {
			return fmt.Errorf("-upstream: %w", err)
		}
		cfg.Upstream.URL = o.upstream
	}
	if o.adminListen != "" {
		if _, _, err := net.SplitHostPort(o.adminListen); err != nil {
			return fmt.Errorf("-admin-listen %q: want host:port", o.adminListen)
		}
		cfg.Admin.Listen = o.adminListen
	}
	return nil
}

func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration `file` (required)")
	var o overrides
	fs.StringVar(&o.snapshot, "snapshot", "", "keep the state in this `file` across restarts (store.snapshot)")
	fs.StringVar(&o.store, "store", "", "share the state with other instances through the Redis at this `URL` (store.url)")
	fs.StringVar(&o.listen, "listen", "", "listen `address`, overriding server.listen")
	fs.StringVar(&o.upstream, "upstream", "", "the shop's base `URL`, overriding upstream.url")
	watch := fs.Bool("watch", true, "reload when the configuration file changes (SIGHUP and POST /reload always do)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if *path == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: shopedge serve -config FILE [-listen ADDR] [-upstream URL] [-watch=false]")
		return errUsage
	}
	cfg, err := loadWith(*path, o)
	if err != nil {
		return err
	}
	keys, err := rules.LoadKeys(cfg, os.Getenv)
	if err != nil {
		return fmt.Errorf("cannot start:\n%w", err)
	}
	log := newLogger(cfg.Log, stderr)
	token := os.Getenv(cfg.Admin.TokenEnv)
	if cfg.Admin.Listen != "" && token == "" {
		log.Warn("admin token not set: only /healthz answers on the admin listener", "env", cfg.Admin.TokenEnv)
	}
	return runProxy(runOptions{
		cfg: cfg, reload: func() (*rules.Compiled, error) { return loadWith(*path, o) }, watch: watched(*path, *watch),
		keys: keys, adminToken: token, log: log,
		ready: func(proxyAddr, adminAddr string, _ *console.Console) {
			fmt.Fprintf(stdout, "shopedge %s: serving %s on http://%s\n", versionString(), cfg.Upstream.URL, proxyAddr)
			if adminAddr != "" {
				// No one-time sign-in link here: what serve prints ends up
				// in a service's log, where a link that signs in is a
				// secret. The console takes the admin token.
				fmt.Fprintf(stdout, "admin: http://%s/metrics\n", adminAddr)
				fmt.Fprintf(stdout, "console: http://%s/  (sign in with the admin token)\n", adminAddr)
			}
		},
	})
}

// watched is the file to watch: path, unless watching is off.
func watched(path string, on bool) string {
	if !on {
		return ""
	}
	return path
}

func loadWith(path string, o overrides) (*rules.Compiled, error) {
	cfg, err := rules.Load(path)
	if err != nil {
		return nil, err
	}
	return o.compile(cfg)
}

type runOptions struct {
	cfg        *rules.Compiled
	reload     func() (*rules.Compiled, error)
	watch      string // the configuration file, reloaded when it changes; "": none
	keys       []identity.Key
	adminToken string
	log        *slog.Logger
	// ready runs once the proxy and the admin listener (adminAddr "" and
	// con nil when there is none) listen; con makes one-time sign-in
	// links to the console.
	ready func(proxyAddr, adminAddr string, con *console.Console)
	// started, if set, runs once the proxy listens, before ready.
	started func(p *proxy.Proxy, proxyAddr string)
	// now, if set, is the proxy's time (a test's clock); nil: the real
	// time.
	now func() time.Time
	// stop, if set, stops the proxy when it is closed, as SIGTERM does
	// (a test's demo, run in the test's process).
	stop <-chan struct{}
}

// runProxy serves until SIGINT or SIGTERM, reloading on SIGHUP, on POST
// /reload on the admin listener, and when the configuration file changes.
// minAdminToken is the shortest admin token shopedge accepts, in bytes.
const minAdminToken = 16

func runProxy(o runOptions) error {
	if o.cfg.Admin.Listen != "" && o.adminToken != "" && len(o.adminToken) < minAdminToken {
		// The token signs people in to the console and reads and erases
		// visitors' profiles: one short enough to guess is refused.
		return fmt.Errorf("cannot start: the admin token in %s is %d bytes; use at least %d (for example: openssl rand -hex 32)",
			o.cfg.Admin.TokenEnv, len(o.adminToken), minAdminToken)
	}
	setMemoryLimit(o.cfg.Config, os.Getenv, o.log)
	// Reloads, from whichever trigger, go one at a time (Proxy.Reload
	// serializes them too; this keeps a file change and a signal from
	// reading the file twice at once).
	var reloadMu sync.Mutex
	load := func() (*rules.Compiled, error) {
		reloadMu.Lock()
		defer reloadMu.Unlock()
		return o.reload()
	}
	p, err := proxy.New(o.cfg, proxy.Options{Keys: o.keys, Logger: o.log, Load: load, Now: o.now})
	if err != nil {
		return err
	}
	defer p.Close()
	srv := p.Server()
	ln, err := net.Listen("tcp", o.cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	errc := make(chan error, 2)
	go func() { errc <- p.Serve(srv, ln) }()
	var admin *fasthttp.Server
	var con *console.Console
	adminAddr := ""
	if o.cfg.Admin.Listen != "" {
		aln, err := net.Listen("tcp", o.cfg.Admin.Listen)
		if err != nil {
			_ = srv.Shutdown()
			return fmt.Errorf("admin listen: %w", err)
		}
		adminAddr = aln.Addr().String()
		var handler fasthttp.RequestHandler
		handler, con = p.AdminConsole(o.adminToken)
		admin = &fasthttp.Server{Handler: handler, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, NoDefaultServerHeader: true}
		go func() { errc <- admin.Serve(aln) }()
	}
	// Watching starts before the proxy says it is ready: a change made
	// as soon as it is reloads it.
	var changed <-chan struct{}
	if o.watch != "" {
		w, err := watchFile(o.watch, o.log)
		if err != nil {
			o.log.Warn("configuration file not watched: reload with SIGHUP or POST /reload", "config", o.watch, "err", err)
		} else {
			defer w.Close()
			changed = w.changed
		}
	}
	// Signals are caught from here: one during started (a demo's warm
	// start) waits for it, then stops the proxy as at any time.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	if o.started != nil {
		o.started(p, ln.Addr().String())
	}
	o.ready(ln.Addr().String(), adminAddr, con)
	o.log.Info("started", "listen", ln.Addr().String(), "upstream", o.cfg.Upstream.URL, "config", o.cfg.File())

	// The state, written every snapshot_interval and once more when the
	// proxy stops.
	var snapshots <-chan time.Time
	if o.cfg.Store.Snapshot != "" {
		t := time.NewTicker(o.cfg.Store.SnapshotInterval.D())
		defer t.Stop()
		snapshots = t.C
	}
	save := func() {
		if _, err := p.SaveSnapshot(); err != nil {
			o.log.Error("snapshot not written", "err", err)
		}
	}

	// stop ends serving, on SIGINT, SIGTERM or o.stop: the listeners
	// finish their requests, the shared state and the snapshot are
	// written.
	stop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := srv.ShutdownWithContext(ctx)
		if admin != nil {
			_ = admin.ShutdownWithContext(ctx)
		}
		// Its own time: requests slow to finish may have spent ctx.
		flushCtx, flushCancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := p.Shutdown(flushCtx); err != nil {
			o.log.Error("shared state not all written", "err", err)
		}
		flushCancel()
		if o.cfg.Store.Snapshot != "" {
			save() // after the last request: nothing it learned is lost
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("shutdown: %w", err)
		}
		return nil
	}

	for {
		select {
		case err := <-errc:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := p.Shutdown(ctx); err != nil {
				o.log.Error("shared state not all written", "err", err)
			}
			cancel()
			if o.cfg.Store.Snapshot != "" {
				save() // what was learned until the listener failed
			}
			return fmt.Errorf("serve: %w", err)
		case <-snapshots:
			save()
		case <-changed:
			o.log.Info("configuration file changed: reloading", "config", o.watch)
			reload(p, load)
		case s := <-sig:
			if s == syscall.SIGHUP {
				reload(p, load)
				continue
			}
			o.log.Info("stopping", "signal", s.String())
			return stop()
		case <-o.stop:
			o.log.Info("stopping")
			return stop()
		}
	}
}

// setMemoryLimit sets the Go runtime's soft memory limit: server.memory_limit
// if set, else what GOMEMLIMIT says (the runtime read it at start), else
// the limit derived from the configured bounds. It returns the limit and
// where it came from.
func setMemoryLimit(cfg *rules.Config, getenv func(string) string, log *slog.Logger) (limit int64, from string) {
	switch {
	case cfg.Server.MemoryLimit > 0:
		limit, from = int64(cfg.Server.MemoryLimit), "server.memory_limit"
	case getenv("GOMEMLIMIT") != "":
		limit, from = debug.SetMemoryLimit(-1), "GOMEMLIMIT"
	default:
		limit, from = cfg.DerivedMemoryLimit(), "profiles.max_memory + limits.page_cache + 256MiB"
	}
	debug.SetMemoryLimit(limit)
	log.Info("memory limit", "mib", limit>>20, "from", from)
	return limit, from
}

// reload swaps in a new configuration, or keeps the old one and says why;
// the proxy counts the outcome and logs it, one line per problem or per
// setting that needs a restart.
func reload(p *proxy.Proxy, load func() (*rules.Compiled, error)) {
	cfg, err := load()
	if err != nil {
		p.ReloadFailed(err)
		return
	}
	p.Reload(cfg)
}

func newLogger(l rules.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(l.Level))
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func check(args []string, stdout, stderr io.Writer) error {
	const use = "usage: shopedge check FILE...\n\nValidates each configuration file: every problem on a line as\nfile:line:col: field: problem, warnings likewise; exit status 1 on any problem.\n"
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(stdout, use)
		return errHelp
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, use)
		return errUsage
	}
	failed := false
	for _, path := range args {
		c, err := rules.Load(path)
		if err != nil {
			fmt.Fprintln(stderr, err)
			failed = true
			continue
		}
		for _, w := range c.Warnings {
			fmt.Fprintln(stdout, w.Error())
		}
		switch n := len(c.Warnings); n {
		case 0:
			fmt.Fprintf(stdout, "%s: ok\n", path)
		case 1:
			fmt.Fprintf(stdout, "%s: ok, 1 warning\n", path)
		default:
			fmt.Fprintf(stdout, "%s: ok, %d warnings\n", path, n)
		}
	}
	if failed {
		return errors.New("configuration has problems")
	}
	return nil
}
