package remote

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Options configure a Store. The zero value of every field but URL means
// its default.
type Options struct {
	// URL is the server: redis://[user:password@]host:port/db, or rediss://
	// for TLS. Required.
	URL string
	// Password overrides the URL's. It is never logged: URLs in logs and
	// errors are redacted. Default: the URL's.
	Password string
	// CAFile, CertFile, KeyFile and ServerName configure TLS; setting any
	// of them turns TLS on for a redis:// URL too. CAFile is a PEM bundle
	// of the roots to trust (default: the system's); CertFile and KeyFile
	// are a client certificate and its key (both or neither); ServerName
	// is the name to verify (default: the URL's host).
	CAFile, CertFile, KeyFile, ServerName string
	// Prefix starts every key, e.g. "shopedge:shop.example:". It may not
	// hold '{' or '}' (keys use hash tags). Default: "shopedge:".
	Prefix string
	// Budget is how long a request may wait on Redis (Profile). Default: 3ms.
	Budget time.Duration
	// Timeout bounds each background round trip (flushes, Start's read of
	// the state, the stream reader's block). Default: 1s.
	Timeout time.Duration
	// FlushInterval is how often profiles, changes and counters are
	// written behind. Default: 50ms.
	FlushInterval time.Duration
	// StateInterval is how often one instance saves the shared state.
	// Default: 1m.
	StateInterval time.Duration
	// ProfileTTL is how long Redis keeps a profile after its last write.
	// Default: 720h (30 days).
	ProfileTTL time.Duration
	// Backlog caps the bytes of change batches kept while Redis is down;
	// past it the oldest batches are dropped (and counted). Default: 64 MiB.
	Backlog int
	// MaxDirty caps the visitors waiting to be written behind; past it
	// Changed drops (and counts) new ones. Default: 1<<20.
	MaxDirty int
	// StreamLength caps the change stream (XADD MAXLEN ~). Default: 1,000,000.
	StreamLength int64
	// StreamAge is how old an entry of the change stream may grow before
	// it is trimmed (XTRIM MINID ~, at each state save). Default: 25h.
	StreamAge time.Duration
	// Instance names this process in the changes and invalidations it
	// publishes. Default: a random id per process.
	Instance string
	// Logger receives the store's few log lines. Default: slog.Default().
	Logger *slog.Logger
	// Cluster uses a Redis Cluster client, seeded with Addrs or, when
	// Addrs is empty, the URL's host. Default: false.
	Cluster bool
	// Addrs are the cluster's seed addresses (host:port). Default: the URL's host.
	Addrs []string
}

// Defaults of Options.
const (
	DefaultBudget        = 3 * time.Millisecond
	DefaultTimeout       = time.Second
	DefaultFlushInterval = 50 * time.Millisecond
	DefaultStateInterval = time.Minute
	DefaultProfileTTL    = 30 * 24 * time.Hour
	DefaultBacklog       = 64 << 20
	DefaultMaxDirty      = 1 << 20
	DefaultStreamLength  = 1_000_000
	DefaultStreamAge     = 25 * time.Hour
	DefaultPrefix        = "shopedge:"
)

// ErrOptions is wrapped by every error Open returns.
var ErrOptions = errors.New("remote: bad options")

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.Budget, DefaultBudget)
	def(&o.Timeout, DefaultTimeout)
	def(&o.FlushInterval, DefaultFlushInterval)
	def(&o.StateInterval, DefaultStateInterval)
	def(&o.ProfileTTL, DefaultProfileTTL)
	def(&o.StreamAge, DefaultStreamAge)
	if o.Backlog == 0 {
		o.Backlog = DefaultBacklog
	}
	if o.MaxDirty == 0 {
		o.MaxDirty = DefaultMaxDirty
	}
	if o.StreamLength == 0 {
		o.StreamLength = DefaultStreamLength
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Instance == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.Instance = hex.EncodeToString(b[:])
	}
}

func (o *Options) check() error {
	var errs []error
	neg := func(name string, d time.Duration) {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s: %v is negative", name, d))
		}
	}
	neg("budget", o.Budget)
	neg("timeout", o.Timeout)
	neg("flush interval", o.FlushInterval)
	neg("state interval", o.StateInterval)
	neg("profile ttl", o.ProfileTTL)
	neg("stream age", o.StreamAge)
	if o.Backlog < 0 {
		errs = append(errs, fmt.Errorf("backlog: %d is negative", o.Backlog))
	}
	if o.MaxDirty < 0 {
		errs = append(errs, fmt.Errorf("max dirty: %d is negative", o.MaxDirty))
	}
	if o.StreamLength < 0 {
		errs = append(errs, fmt.Errorf("stream length: %d is negative", o.StreamLength))
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		errs = append(errs, fmt.Errorf("prefix: %q holds a brace (keys use hash tags)", o.Prefix))
	}
	if strings.ContainsAny(o.Instance, "\x00") {
		errs = append(errs, fmt.Errorf("instance: %q holds a NUL", o.Instance))
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		errs = append(errs, errors.New("cert file and key file: set both or neither"))
	}
	return errors.Join(errs...)
}

// clientOptions parses the URL and TLS files into go-redis options.
// redacted is the URL without its password, for logs and errors.
func (o *Options) clientOptions() (opt *redis.Options, redacted string, err error) {
	if o.URL == "" {
		return nil, "", errors.New("url: required")
	}
	redacted = redactURL(o.URL)
	opt, err = redis.ParseURL(o.URL)
	if err != nil {
		// go-redis and net/url may quote the URL, password and all.
		return nil, redacted, fmt.Errorf("url %s: %s", redacted, scrub(err.Error(), o.secrets()...))
	}
	if o.Password != "" {
		opt.Password = o.Password
	}
	if o.CAFile != "" || o.CertFile != "" || o.ServerName != "" || opt.TLSConfig != nil {
		tc := opt.TLSConfig
		if tc == nil {
			host, _, _ := net.SplitHostPort(opt.Addr)
			tc = &tls.Config{ServerName: host}
		}
		tc.MinVersion = tls.VersionTLS12
		if o.ServerName != "" {
			tc.ServerName = o.ServerName
		}
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				return nil, redacted, fmt.Errorf("ca file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, redacted, fmt.Errorf("ca file %s: no PEM certificate", o.CAFile)
			}
			tc.RootCAs = pool
		}
		if o.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
			if err != nil {
				return nil, redacted, fmt.Errorf("cert file and key file: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		opt.TLSConfig = tc
	}
	// The store retries itself (same batch, same sequence number); the
	// client's own retries and dial retries would only stretch a round
	// trip past its deadline.
	opt.MaxRetries = -1
	opt.DialerRetries = 1
	opt.DialTimeout = o.Timeout
	opt.ReadTimeout = o.Timeout
	opt.WriteTimeout = o.Timeout
	opt.PoolTimeout = o.Timeout
	opt.ContextTimeoutEnabled = true
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return opt, redacted, nil
}

// secrets are the strings never to show.
func (o *Options) secrets() []string {
	s := []string{o.Password}
	if u, err := url.Parse(o.URL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			s = append(s, p)
		}
	} else if i, j := strings.Index(o.URL, "://"), strings.LastIndex(o.URL, "@"); i >= 0 && j > i {
		// An unparsable URL: hide all of its userinfo.
		s = append(s, o.URL[i+3:j])
	}
	return s
}

// redactURL is u with its password replaced by "xxxxx"; an unparsable u
// is cut to its scheme.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		if i := strings.Index(u, "://"); i >= 0 {
			return u[:i+3] + "(unparsable)"
		}
		return "(unparsable)"
	}
	return p.Redacted()
}

// scrub replaces every secret in s.
func scrub(s string, secrets ...string) string {
	for _, x := range secrets {
		if x != "" {
			s = strings.ReplaceAll(s, x, "xxxxx")
		}
	}
	return s
}
