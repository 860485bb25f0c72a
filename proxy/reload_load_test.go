package proxy

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"shopedge/rules"
)

// TestReloadWholeUnderLoad (issue 11): while visitors load the home page,
// the rules are swapped back and forth between two sets, with a bad file
// refused in between. Each set names both home-page blocks its own way,
// so a page that mixed the two sets would show one name of each: every
// page shows both names of one set.
func TestReloadWholeUnderLoad(t *testing.T) {
	t.Parallel()
	titles := func(set string) func(*rules.Config) {
		return func(c *rules.Config) {
			for i := range c.Recommendations.Blocks {
				switch b := &c.Recommendations.Blocks[i]; b.ID {
				case "recently-viewed":
					b.Title = set + " recently viewed"
				case "popular":
					b.Title = set + " popular"
				}
			}
		}
	}
	e := newShopEnv(t, titles("Alpha"))
	v := e.visitor()
	v.get(e.url + "/p/essential-grey-slip-dress-se-10001") // something to recommend
	if home := v.get(e.url + "/"); !strings.Contains(home.body, "Alpha recently viewed") || !strings.Contains(home.body, "Alpha popular") {
		t.Fatalf("the home page lacks a block:\n%s", home.body)
	}
	sets := []*rules.Compiled{
		compile(t, demoConfig(t, e.upstream, titles("Alpha"))),
		compile(t, demoConfig(t, e.upstream, titles("Beta"))),
	}
	_, bad := rules.Parse("bad.yaml", []byte("upstream:\n  url: ftp://x\n"))
	if bad == nil {
		t.Fatal("bad.yaml loaded")
	}

	var stop atomic.Bool
	var pages, mixed, seenBeta atomic.Int64
	has := func(body, s string) int {
		if strings.Contains(body, s) {
			return 1
		}
		return 0
	}
	var first sync.Once
	served := make(chan struct{}, 1) // a page was served since the last reload
	var wg sync.WaitGroup
	for range 4 {
		w := e.visitor() // a visitor is one browser: one per goroutine
		w.get(e.url + "/p/essential-grey-slip-dress-se-10001")
		wg.Go(func() {
			for !stop.Load() {
				body := w.get(e.url + "/").body
				pages.Add(1)
				alpha := has(body, "Alpha recently viewed") + has(body, "Alpha popular")
				beta := has(body, "Beta recently viewed") + has(body, "Beta popular")
				if beta == 2 {
					seenBeta.Add(1)
				}
				if alpha+beta != 2 || alpha == 1 {
					mixed.Add(1)
					first.Do(func() { t.Errorf("a page with %d names of one set and %d of the other", alpha, beta) })
				}
				select {
				case served <- struct{}{}:
				default:
				}
			}
		})
	}
	for i := range 60 {
		<-served // pages in between: the reloads happen under load
		if i%10 == 5 {
			e.proxy.ReloadFailed(bad) // refused: the running set stays
			continue
		}
		e.proxy.Reload(sets[i%2])
	}
	<-served
	stop.Store(true)
	wg.Wait()
	if seenBeta.Load() == 0 {
		t.Error("no page of the second set was served")
	}
	t.Logf("%d pages during 60 reloads, %d mixed", pages.Load(), mixed.Load())
}
