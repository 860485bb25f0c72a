package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// cpuProfile takes a CPU profile of a shopedge target from its admin
// listener (/debug/pprof/profile) for d, rounded down to whole seconds (at
// least one), and writes it to path. It runs beside a load generator run;
// done receives what went wrong, or nil.
func cpuProfile(adminURL, token, path string, d time.Duration, done chan<- error) {
	secs := max(1, int(d/time.Second))
	req, err := http.NewRequest("GET", adminURL+"/debug/pprof/profile?seconds="+strconv.Itoa(secs), nil)
	if err != nil {
		done <- err
		return
	}
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Timeout: time.Duration(secs)*time.Second + 30*time.Second}
	resp, err := client.Do(req)
	if err != nil {
		done <- fmt.Errorf("cpu profile %s: %w", path, err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		done <- fmt.Errorf("cpu profile %s: %s", path, resp.Status)
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		done <- err
		return
	}
	f, err := os.Create(path)
	if err != nil {
		done <- err
		return
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		done <- fmt.Errorf("cpu profile %s: %w", path, err)
		return
	}
	done <- f.Close()
}
