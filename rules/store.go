package rules

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// validateStore checks the store section: a URL the Redis client can
// dial, and bounds that keep the hot path's wait small.
func (c *Compiled) validateStore(v *validator) {
	st := &c.Store
	if st.URL != "" {
		if msg := checkStoreURL(st.URL); msg != "" {
			v.add("store.url", "%s", msg)
		}
	} else if st.Cluster || st.TLS.Enabled() || st.Prefix != "" {
		v.add("store.url", "required with store.cluster, store.tls or store.prefix: the Redis server, like redis://127.0.0.1:6379/0")
	}
	if b := st.Budget.D(); b < 100*time.Microsecond || b > time.Second {
		v.add("store.budget", "want 100µs to 1s (what a request may wait on the store), got %s", b)
	}
	if t := st.Timeout.D(); t < st.Budget.D() || t > time.Minute {
		v.add("store.timeout", "want store.budget (%s) to 1m, got %s", st.Budget.D(), t)
	}
	if f := st.FlushInterval.D(); f < time.Millisecond || f > 10*time.Second {
		v.add("store.flush_interval", "want 1ms to 10s, got %s", f)
	}
	if st.Backlog < 1<<20 {
		v.add("store.backlog", "want at least 1MiB, got %d bytes", int64(st.Backlog))
	}
	if (st.TLS.CertFile == "") != (st.TLS.KeyFile == "") {
		v.add("store.tls", "cert_file and key_file go together")
	}
	if st.Prefix != "" && strings.ContainsAny(st.Prefix, "{} \t\r\n") {
		v.add("store.prefix", "no braces or spaces (braces choose a Redis Cluster slot), got %q", st.Prefix)
	}
}

// checkStoreURL says what is wrong with a store URL, "" when nothing. It
// never repeats the URL, which may hold a password.
func checkStoreURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "not a URL (want redis://host:port/db)"
	}
	switch u.Scheme {
	case "redis", "rediss":
	default:
		return "want a redis:// or rediss:// URL, got scheme " + strconv.Quote(u.Scheme)
	}
	if u.Hostname() == "" {
		return "want a host, like redis://127.0.0.1:6379/0"
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "want a port from 1 to 65535, got " + strconv.Quote(port)
		}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			return "want a database number after the host (/0), got " + strconv.Quote(db)
		}
	}
	return ""
}
