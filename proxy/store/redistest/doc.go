// Package redistest starts a real redis-server for tests: on a free
// loopback port, in the test's temporary directory, stopped when the test
// ends. Nothing here imitates Redis: a test that needs Redis and finds no
// redis-server on PATH is skipped outside CI (CI unset) and fails under CI.
// A one-node Redis Cluster (every slot on one server) is there for
// cluster clients.
//
// Files:
//   - redistest.go: Start, StartWith, Config and Server (Addr, URL, Stop,
//     Restart, Kill).
package redistest
