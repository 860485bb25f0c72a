// Package redistest starts a real redis-server for tests: on a free
// loopback port, in the test's temporary directory, stopped when the test
// ends. Nothing here imitates Redis: a test that needs Redis and finds no
// redis-server on PATH is skipped outside CI (CI unset) and fails under CI.
// A one-node Redis Cluster (every slot on one server) is there for
// cluster clients, a password (requirepass) for authentication, and TLS
// with an authority made for the test.
//
// Files:
//   - redistest.go: Start, StartWith, Config and Server (Addr, URL, Stop,
//     Restart, Kill).
//   - tls.go: the test's authority and the server's certificate, and the
//     TLS dial of the server's own checks.
package redistest
