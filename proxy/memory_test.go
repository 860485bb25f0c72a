package proxy

import (
	"encoding/json"
	"runtime/debug"
	"testing"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/profile"
	"shopedge/rules"
)

// TestDebugMemory (issue 9): /debug/memory says where the memory goes:
// resident memory and the runtime's limit, each bounded store's charge
// against its configured bound, and the heap the bounds do not account
// for.
func TestDebugMemory(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, func(c *rules.Config) { c.Profiles.MaxMemory = 8 << 20 })
	for range 3 {
		v := e.visitor()
		v.get(e.url + "/")
		v.get(e.url + "/")
	}
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/debug/memory")
	e.proxy.adminMemory(&ctx)
	var got struct {
		Process struct {
			RSS   int64 `json:"rss_bytes"`
			Limit int64 `json:"memory_limit_bytes"`
			Total int64 `json:"go_total_bytes"`
		} `json:"process"`
		Heap struct {
			Live     int64 `json:"live_bytes"`
			Profiles struct {
				Charged  int64 `json:"charged_bytes"`
				Bound    int64 `json:"bound_bytes"`
				Held     int64 `json:"held"`
				Capacity int64 `json:"capacity"`
			} `json:"profiles"`
			Pages struct {
				Charged int64 `json:"charged_bytes"`
				Bound   int64 `json:"bound_bytes"`
			} `json:"page_cache"`
			Engine struct {
				Bytes int64 `json:"estimated_bytes"`
			} `json:"engine"`
			Unaccounted int64 `json:"unaccounted_bytes"`
		} `json:"heap"`
		Runtime struct {
			Goroutines int64 `json:"goroutines"`
			Stacks     int64 `json:"stacks_bytes"`
		} `json:"runtime"`
	}
	if err := json.Unmarshal(ctx.Response.Body(), &got); err != nil {
		t.Fatalf("%v: %s", err, ctx.Response.Body())
	}
	h := got.Heap
	checks := []struct {
		name      string
		got, want int64
	}{
		{"profiles held", h.Profiles.Held, 3},
		{"profiles charged", h.Profiles.Charged, 3 * profile.Cost},
		{"profiles bound", h.Profiles.Bound, 8 << 20},
		{"profiles capacity", h.Profiles.Capacity, 8 << 20 / profile.Cost},
		{"page cache bound", h.Pages.Bound, 64 << 20},
		{"unaccounted", h.Unaccounted, h.Live - h.Profiles.Charged - h.Pages.Charged - h.Engine.Bytes},
		{"memory limit", got.Process.Limit, debug.SetMemoryLimit(-1)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
	for name, v := range map[string]int64{"rss": got.Process.RSS, "go total": got.Process.Total, "live heap": h.Live,
		"page cache charged": h.Pages.Charged, "goroutines": got.Runtime.Goroutines, "stacks": got.Runtime.Stacks} {
		if v <= 0 {
			t.Errorf("%s: got %d, want > 0", name, v)
		}
	}
}
