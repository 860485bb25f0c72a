package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"shopedge/proxy/proxytest"
)

// TestDemoSnapshot (issue 13): the demo given -snapshot keeps its
// visitors across a restart: SIGTERM writes the state, and the demo
// started again with the file shows a returning visitor the recently
// viewed block their views earned before, with no SHOPEDGE_SECRET set
// (the secret the demo made is kept beside the snapshot).
func TestDemoSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	file := filepath.Join(t.TempDir(), "demo.snap")
	env := []string{"SHOPEDGE_SECRET="} // none: the demo keeps the secret it makes beside the snapshot
	run := func() *process {
		return start(t, env, "demo", "-listen", "127.0.0.1:0", "-shop-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0", "-snapshot", file)
	}
	stop := func(p *process) {
		t.Helper()
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("demo did not stop cleanly: %v", err)
		}
	}
	recent := regexp.MustCompile(`(?s)<section class="se-rec" data-se-block="recently-viewed".*?</section>`)

	first := run()
	url := first.waitFor(t, `shopedge \(open me\):\s+(http://\S+)/`)[1]
	v := proxytest.NewVisitor(t, url)
	products := regexp.MustCompile(`href="(/p/[^"]+)"`).FindAllStringSubmatch(v.Get("/c/bags-accessories").Body, -1)
	for _, m := range products[:4] {
		v.Get(m[1])
	}
	before := recent.FindString(v.Get("/").Body)
	if before == "" {
		t.Fatal("no recently viewed block before the restart")
	}
	stop(first)

	second := run()
	second.waitFor(t, `msg="snapshot restored"`)
	url2 := second.waitFor(t, `shopedge \(open me\):\s+(http://\S+)/`)[1]
	v.Base = url2 // the same browser, cookies and all, at the new address
	after := recent.FindString(v.Get("/").Body)
	if after == "" || !strings.Contains(after, products[0][1]) {
		t.Errorf("after the restart the home page shows %q, want the block of before:\n%s", after, before)
	}
	stop(second)
}
