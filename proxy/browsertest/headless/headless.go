package headless

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// The user agents the browser sends: a computer's, and a phone's (with
// Phone). Headless Chromium's own names itself HeadlessChrome, which
// shops and shopedge take for a bot.
const (
	DesktopUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
	PhoneUA   = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36"
)

// Find returns the Chromium binary: $SHOPEDGE_CHROMIUM, else chromium,
// chromium-browser or google-chrome on PATH. Without one it skips the
// test, or fails it under CI (CI set), where .ci/run installs Debian's
// chromium.
func Find(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SHOPEDGE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found: .ci/run installs Debian's chromium")
	}
	t.Skip("no Chromium on this machine (apt-get install chromium)")
	return ""
}

// Start starts a headless Chromium with a profile of its own (no cookies)
// and a 1280×900 window, sending DesktopUA, and returns its first tab.
// The browser stops when the test ends, or when within has passed.
func Start(t testing.TB, within time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Find(t)),
		chromedp.NoSandbox,
		chromedp.Flag("headless", "new"),
		chromedp.Flag("disable-gpu", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(profileDir(t)),
		chromedp.UserAgent(DesktopUA),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	// The browser's newer events, which chromedp does not know, are not
	// errors of the test.
	ctx, cancelB := chromedp.NewContext(actx, chromedp.WithErrorf(func(string, ...any) {}))
	ctx, cancelC := context.WithTimeout(ctx, within)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// Private opens a tab in a new browser context of ctx's browser, as a
// private window is: no cookies, no storage of the other tabs'. It closes,
// and its context is disposed of, when the test ends.
func Private(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	var id target.ID
	var bc cdp.BrowserContextID
	err := chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		exec := cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser)
		var err error
		if bc, err = target.CreateBrowserContext().WithDisposeOnDetach(true).Do(exec); err != nil {
			return err
		}
		// A window of its own: headless Chromium opens no tab in a
		// browser context that has no window ("no browser is open").
		id, err = target.CreateTarget("about:blank").WithBrowserContextID(bc).WithNewWindow(true).Do(exec)
		return err
	}))
	if err != nil {
		t.Fatalf("open a private window: %v", err)
	}
	pctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(id))
	t.Cleanup(func() {
		cancel()
		exec := cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser)
		_ = target.DisposeBrowserContext(bc).Do(exec)
	})
	if err := chromedp.Run(pctx); err != nil {
		t.Fatalf("open a private window: %v", err)
	}
	return pctx
}

// Phone has the tab of ctx act as a phone, as the browser's device
// toolbar does: a 412×915 screen at 2.625 device pixels per CSS pixel,
// touch (a coarse pointer) and PhoneUA.
func Phone(t testing.TB, ctx context.Context) {
	t.Helper()
	Run(t, ctx,
		emulation.SetUserAgentOverride(PhoneUA),
		emulation.SetDeviceMetricsOverride(412, 915, 2.625, true),
		emulation.SetTouchEmulationEnabled(true).WithMaxTouchPoints(5),
	)
}

// Run runs actions in the tab of ctx, failing the test on an error.
func Run(t testing.TB, ctx context.Context, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// Eval returns the value of a JavaScript expression in the page.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	var v T
	Run(t, ctx, chromedp.Evaluate(expr, &v))
	return v
}

// WaitFor polls a JavaScript condition until it holds (true) or within
// has passed (false).
func WaitFor(t testing.TB, ctx context.Context, expr string, within time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if Eval[bool](t, ctx, expr) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Screenshot saves the tab's viewport as dir/name.png, once the page's
// animations (an overlay's fade-in) have finished.
func Screenshot(t testing.TB, ctx context.Context, dir, name string) {
	t.Helper()
	if !WaitFor(t, ctx, `document.getAnimations().every(function(a){return a.playState!=="running"})`, 2*time.Second) {
		t.Logf("screenshot %s: an animation still runs", name)
	}
	var png []byte
	Run(t, ctx, chromedp.CaptureScreenshot(&png))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// profileDir makes the browser's profile directory, removed after the
// test (the browser may still be writing to it as it stops, so the
// removal is tried a few times).
func profileDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "shopedge-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 20 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	return dir
}
