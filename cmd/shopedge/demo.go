package main

// The demo command, and everything only it needs. This is the one file of
// the command that imports the demo shop (shopedge/bench/shop): the other
// commands share no code with it, and the shop does nothing when the
// program starts (no package-level work), so they pay nothing for it but
// the size of the binary.

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"shopedge/bench/shop"
	"shopedge/configs"
	"shopedge/proxy"
	"shopedge/proxy/console"
	"shopedge/proxy/recommend"
	"shopedge/rules"
)

// demo serves the demo shop on -shop-listen and shopedge in front of it,
// with the embedded configs/demo.yaml unless -config names a file, and a
// secret and an admin token made for the run when the environment has
// none.
func demo(args []string, stdout, stderr io.Writer) error {
	return runDemo(args, stdout, stderr, demoHooks{})
}

// demoHooks are what a test changes of a demo it runs in its own process:
// the proxy's clock and a way to stop it. The zero value is the command's.
type demoHooks struct {
	now  func() time.Time // nil: the real time
	stop <-chan struct{}  // closed: stop, as on SIGTERM; nil: signals only
}

// runDemo is demo, with hooks.
func runDemo(args []string, stdout, stderr io.Writer, hooks demoHooks) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o overrides
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "shopedge's listen `address`")
	shopListen := fs.String("shop-listen", "127.0.0.1:8081", "the demo shop's listen `address`")
	fs.StringVar(&o.adminListen, "admin-listen", "127.0.0.1:9090", "the admin listen `address`")
	path := fs.String("config", "", "configuration `file` (default: the embedded configs/demo.yaml)")
	fs.StringVar(&o.snapshot, "snapshot", "", "keep visitors, catalog and counts in this `file` across restarts")
	fs.StringVar(&o.store, "store", "", "share the state with other instances through the Redis at this `URL`")
	watch := fs.Bool("watch", true, "reload when the -config file changes")
	warm := fs.Bool("warm", true, "teach the recommendations what simulated shoppers did first (no visitor is made or counted)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}

	shopLn, err := net.Listen("tcp", *shopListen)
	if err != nil {
		return fmt.Errorf("demo shop: %w", err)
	}
	demoShop := shop.New(1)
	shopSrv := &http.Server{Handler: demoShop, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = shopSrv.Serve(shopLn) }()
	defer shopSrv.Close()
	o.upstream = "http://" + shopLn.Addr().String()

	load := func() (*rules.Compiled, error) {
		if *path != "" {
			return loadWith(*path, o)
		}
		cfg, err := rules.Parse("configs/demo.yaml", configs.Demo)
		if err != nil {
			return nil, err
		}
		return o.compile(cfg)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	getenv := os.Getenv
	if os.Getenv("SHOPEDGE_SECRET") == "" && cfg.Store.URL != "" {
		// Each instance would sign with a secret of its own, and a
		// visitor's cookie from one would be new to the other.
		return fmt.Errorf("demo -store: set SHOPEDGE_SECRET, the same for every instance, so that each reads the visitor cookies the others sign (for example: export SHOPEDGE_SECRET=$(head -c 32 /dev/urandom | base64))")
	}
	if os.Getenv("SHOPEDGE_SECRET") == "" {
		secret, kept := randomString(48), ""
		if o.snapshot != "" {
			// Visitors kept in the snapshot come back with cookies this
			// secret signed: it is kept beside the snapshot.
			if secret, err = keptSecret(o.snapshot+".secret", secret); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			kept = o.snapshot + ".secret"
		}
		getenv = func(k string) string {
			if k == "SHOPEDGE_SECRET" {
				return secret
			}
			return os.Getenv(k)
		}
		if kept != "" {
			log.Info("SHOPEDGE_SECRET is not set: using the demo's secret kept in a file", "file", kept)
		} else {
			log.Info("SHOPEDGE_SECRET is not set: using a secret made for this run (visitors are forgotten when the demo stops)")
		}
	}
	keys, err := rules.LoadKeys(cfg, getenv)
	if err != nil {
		return fmt.Errorf("cannot start:\n%w", err)
	}
	token := os.Getenv(cfg.Admin.TokenEnv)
	if token == "" {
		token = randomString(24)
	}
	return runProxy(runOptions{
		cfg: cfg, reload: load, watch: watched(*path, *watch), keys: keys, adminToken: token, log: log,
		now: hooks.now, stop: hooks.stop,
		started: func(p *proxy.Proxy, proxyAddr string) {
			switch _, err := os.Stat(o.snapshot); {
			case !*warm:
			case o.snapshot != "" && err == nil:
				log.Info("demo not warmed: the snapshot's state is restored")
			case cfg.Store.URL != "":
				// The engine goes into the state saved in Redis: warmed at
				// every start, its simulated shoppers would pile up there.
				log.Info("demo not warmed: the state is shared through the store")
			default:
				warmDemo(p, demoShop.Catalog, o.upstream, proxyAddr, log)
			}
		},
		ready: func(proxyAddr, adminAddr string, con *console.Console) {
			fmt.Fprintf(stdout, "demo shop:           http://%s/\n", shopLn.Addr())
			fmt.Fprintf(stdout, "shopedge (open me):  http://%s/\n", proxyAddr)
			if adminAddr != "" {
				fmt.Fprintf(stdout, "admin:               http://%s/metrics  (Authorization: Bearer %s)\n", adminAddr, token)
				// The demo prints secrets for the one at its terminal (the
				// token above, this link); serve prints neither.
				fmt.Fprintf(stdout, "console:             http://%s/login?once=%s  (signs you in once, within %.0f minutes; then sign in at /login with the admin token)\n", adminAddr, con.OnceCode(), console.CodeLifetime.Minutes())
			}
			fmt.Fprintln(stdout, "Browse a few products of one category, then go back to the home page: the menu leads with that category.")
			fmt.Fprintln(stdout, "Stop with Ctrl-C.")
		},
	})
}

// warmDemo has the demo look alive on its first page: the catalog learns
// every product page of the demo shop (fetched from it, by the path
// pages that pass through take), and the recommendation engine what
// simulated shoppers of the last week did (shop.Catalog.Shoppers). No
// visitor is made or counted: social proof and experiments see real
// visitors only.
func warmDemo(p *proxy.Proxy, cat *shop.Catalog, shopBase, host string, log *slog.Logger) {
	t0 := time.Now()
	keepHost := p.Config().Upstream.HostHeader == "keep"
	client := &http.Client{Timeout: 5 * time.Second}
	paths := make(chan string)
	var learned atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for path := range paths {
				req, err := http.NewRequest(http.MethodGet, shopBase+path, nil)
				if err != nil {
					continue
				}
				// Uncompressed: on loopback, the shop's gzip and the
				// client's gunzip would be most of the warm start's work.
				req.Header.Set("Accept-Encoding", "identity")
				// The Host a visitor's request through the proxy carries
				// (host_header: keep): the shop writes its absolute links
				// and images on that host, which the catalog accepts as the
				// page's own, as it does for pages that pass through.
				if keepHost {
					req.Host = host
				}
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
				resp.Body.Close()
				if err == nil && resp.StatusCode == http.StatusOK && p.LearnPage(host, path, body, resp.Header.Get("Content-Type")) {
					learned.Add(1)
				}
			}
		}()
	}
	for _, prod := range cat.Products {
		paths <- prod.URL()
	}
	close(paths)
	wg.Wait()

	const span = 7 * 24 * 3600
	kinds := map[string]recommend.Kind{"view": recommend.View, "cart": recommend.Cart, "purchase": recommend.Purchase}
	sim := cat.Shoppers(20000, 7, time.Now().Unix()-span, span)
	visits := make([]proxy.WarmVisit, len(sim))
	for i, v := range sim {
		visits[i] = proxy.WarmVisit{Session: "demo-shopper-" + strconv.Itoa(v.Session), Path: v.Product.URL(), Kind: kinds[v.Kind], At: time.Unix(v.At, 0)}
	}
	n := p.Warm(visits)
	log.Info("demo warmed: the recommendations learned from simulated shoppers (no visitor made or counted; -warm=false to start cold)",
		"products", learned.Load(), "events", n, "took", time.Since(t0).Round(time.Millisecond))
}

// keptSecret is the secret in file, or fresh, written there (mode 0600)
// when the file does not exist yet.
func keptSecret(file, fresh string) (string, error) {
	b, err := os.ReadFile(file)
	switch {
	case err == nil && len(strings.TrimSpace(string(b))) >= 32:
		return strings.TrimSpace(string(b)), nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read the demo's secret: %w", err)
	}
	if err := os.WriteFile(file, []byte(fresh+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep the demo's secret: %w", err)
	}
	return fresh, nil
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
