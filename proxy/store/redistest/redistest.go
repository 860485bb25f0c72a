package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Config says how the server is started.
type Config struct {
	// AppendOnly turns on the append-only file (appendfsync always), so
	// what the server acknowledged survives Stop, Kill and Restart.
	// Default: false (nothing persists: a restarted server is empty).
	AppendOnly bool
	// Cluster starts the server as a one-node Redis Cluster holding every
	// slot, for cluster clients (and their cross-slot checks).
	// Default: false.
	Cluster bool
	// Password is required of clients (requirepass); URL carries it.
	// Default: none.
	Password string
	// TLS serves TLS only, with a certificate for 127.0.0.1 from an
	// authority made for the test (CAFile); URL is then rediss://.
	// Default: false.
	TLS bool
}

// Server is a redis-server the test started.
type Server struct {
	t    testing.TB
	bin  string
	port int
	dir  string
	cfg  Config

	mu   sync.Mutex
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
}

// startTimeout bounds how long a server may take to answer PING.
const startTimeout = 15 * time.Second

// Start starts a redis-server with no persistence and returns it; it is
// stopped when the test ends.
func Start(t testing.TB) *Server { return StartWith(t, Config{}) }

// StartWith starts a redis-server as cfg says.
func StartWith(t testing.TB, cfg Config) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server not found under CI: %v", err)
		}
		t.Skip("redis-server not found: install it (apt-get install redis-server) to run the Redis tests")
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), cfg: cfg}
	var lastErr error
	for range 5 {
		s.port, err = freePort()
		if err != nil {
			t.Fatalf("redistest: free port: %v", err)
		}
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("redistest: %v", lastErr)
	}
	t.Cleanup(func() { s.Kill() })
	return s
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is the server's URL, database 0 (with the password, if any;
// rediss:// with TLS).
func (s *Server) URL() string {
	scheme := "redis://"
	if s.cfg.TLS {
		scheme = "rediss://"
	}
	if s.cfg.Password != "" {
		return scheme + ":" + s.cfg.Password + "@" + s.Addr() + "/0"
	}
	return scheme + s.Addr() + "/0"
}

// CAFile is the PEM file of the authority that signed a TLS server's
// certificate; "" without TLS.
func (s *Server) CAFile() string {
	if !s.cfg.TLS {
		return ""
	}
	return filepath.Join(s.dir, "ca.pem")
}

// Dir is the server's working directory (where a persistent server keeps
// its files).
func (s *Server) Dir() string { return s.dir }

func (s *Server) start() error {
	args := []string{"--bind", "127.0.0.1", "--port", strconv.Itoa(s.port), "--save", "", "--dir", s.dir,
		"--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning"}
	if s.cfg.TLS {
		if err := writeCerts(s.dir); err != nil {
			return fmt.Errorf("redistest: certificates: %w", err)
		}
		args[3] = "0" // no plain port
		args = append(args, "--tls-port", strconv.Itoa(s.port),
			"--tls-cert-file", filepath.Join(s.dir, "server.pem"), "--tls-key-file", filepath.Join(s.dir, "server.key"),
			"--tls-ca-cert-file", filepath.Join(s.dir, "ca.pem"), "--tls-auth-clients", "no")
	}
	if s.cfg.Cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	}
	if s.cfg.Password != "" {
		args = append(args, "--requirepass", s.cfg.Password)
	}
	if s.cfg.AppendOnly {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	cmd := exec.Command(s.bin, args...)
	out := &bytes.Buffer{}
	cmd.Stdout = &lockedWriter{w: out}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.out, s.done = cmd, out, done
	s.mu.Unlock()

	deadline := time.Now().Add(startTimeout)
	for {
		if err := s.ping(); err == nil {
			return s.clusterUp(deadline)
		} else if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("redis-server on %s did not answer PING within %v: %v; output: %s", s.Addr(), startTimeout, err, cmd.Stdout.(*lockedWriter).String())
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server on %s exited at start: %s", s.Addr(), cmd.Stdout.(*lockedWriter).String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// clusterUp gives a cluster node every slot (a restarted node keeps them
// in nodes.conf) and waits until the cluster says ok.
func (s *Server) clusterUp(deadline time.Time) error {
	if !s.cfg.Cluster {
		return nil
	}
	if r, err := s.command("CLUSTER", "ADDSLOTSRANGE", "0", "16383"); err != nil {
		return fmt.Errorf("cluster addslotsrange: %w", err)
	} else if r != "+OK" && !strings.Contains(r, "already busy") {
		return fmt.Errorf("cluster addslotsrange: %s", r)
	}
	for {
		info, err := s.command("CLUSTER", "INFO")
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster on %s not ok within %v: %q, %v", s.Addr(), startTimeout, info, err)
		}
		<-time.After(5 * time.Millisecond)
	}
}

// ping sends PING and expects +PONG.
func (s *Server) ping() error {
	reply, err := s.command("PING")
	if err != nil {
		return err
	}
	if reply != "+PONG" {
		return fmt.Errorf("PING: got %q, want +PONG", reply)
	}
	return nil
}

// command sends one command (a RESP array) and returns the reply's first
// line, or a bulk string's content.
func (s *Server) command(args ...string) (string, error) {
	var c net.Conn
	var err error
	if s.cfg.TLS {
		c, err = s.dialTLS()
	} else {
		c, err = net.DialTimeout("tcp", s.Addr(), time.Second)
	}
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	write := func(args ...string) {
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if s.cfg.Password != "" {
		write("AUTH", s.cfg.Password)
	}
	write(args...)
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	rd := bufio.NewReader(c)
	if s.cfg.Password != "" {
		if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
			return "", fmt.Errorf("AUTH: %q %v", line, err)
		}
	}
	line, err := rd.ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if err != nil || !strings.HasPrefix(line, "$") || line == "$-1" {
		return line, err
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil {
		return line, fmt.Errorf("bulk length %q: %w", line, err)
	}
	bulk := make([]byte, n+2)
	if _, err := io.ReadFull(rd, bulk); err != nil {
		return "", err
	}
	return string(bulk[:n]), nil
}

// Stop shuts the server down (SHUTDOWN NOSAVE, or SHUTDOWN for an
// append-only server, so the file is complete) and waits until it has
// exited; it kills it if it has not within a few seconds.
func (s *Server) Stop() {
	s.t.Helper()
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	cmd := "NOSAVE"
	if s.cfg.AppendOnly {
		cmd = "SAVE"
	}
	_, _ = s.command("SHUTDOWN", cmd) // the connection closes without a reply
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.Kill()
	}
}

// Kill kills the server (SIGKILL) and waits until it has exited.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Logf("redistest: kill redis-server: %v", err)
	}
	<-done
}

// Restart starts the server again on the same port and directory after
// Stop or Kill (it stops it first if it runs). A server without
// persistence comes back empty.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	var err error
	deadline := time.Now().Add(startTimeout)
	for {
		// The port may linger a moment after the old process exits.
		if err = s.start(); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
}

// lockedWriter collects the server's output from two goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}
