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
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"shopedge/bench/shop"
	"shopedge/configs"
	"shopedge/rules"
)

// demo serves the demo shop on -shop-listen and shopedge in front of it,
// with the embedded configs/demo.yaml unless -config names a file, and a
// secret and an admin token made for the run when the environment has
// none.
func demo(args []string, stdout, stderr io.Writer) error {
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
	if err := parse(fs, args, stdout); err != nil {
		return err
	}

	shopLn, err := net.Listen("tcp", *shopListen)
	if err != nil {
		return fmt.Errorf("demo shop: %w", err)
	}
	shopSrv := &http.Server{Handler: shop.New(1), ReadHeaderTimeout: 10 * time.Second}
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
		ready: func(proxyAddr, adminAddr string) {
			fmt.Fprintf(stdout, "demo shop:           http://%s/\n", shopLn.Addr())
			fmt.Fprintf(stdout, "shopedge (open me):  http://%s/\n", proxyAddr)
			if adminAddr != "" {
				fmt.Fprintf(stdout, "admin:               http://%s/metrics  (Authorization: Bearer %s)\n", adminAddr, token)
			}
			fmt.Fprintln(stdout, "Browse a few products of one category, then go back to the home page: the menu leads with that category.")
			fmt.Fprintln(stdout, "Stop with Ctrl-C.")
		},
	})
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
