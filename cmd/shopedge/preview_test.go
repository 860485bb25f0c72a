package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"shopedge/proxy/proxytest"
)

// TestPreviewCommand runs `shopedge preview` as a process: its link,
// opened in front of the demo shop served by `shopedge serve`, starts a
// preview of the segment (the badge names it); a link of the segment and
// an arm of the overlay's experiment shows the arm's copy; an unknown
// segment, experiment or arm is an error naming the known ones; without
// the secret it cannot sign.
func TestPreviewCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const secret = "SHOPEDGE_SECRET=0123456789abcdef0123456789abcdef0123"
	up := start(t, nil, "demo", "-listen", "127.0.0.1:0", "-shop-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0")
	shopURL := up.waitFor(t, `demo shop:\s+(http://\S+)/`)[1]
	cfgPath := filepath.Join(t.TempDir(), "shop.yaml")
	yaml := "upstream:\n  url: " + shopURL + "\nserver:\n  listen: 127.0.0.1:0\n" +
		"pages:\n  - type: product\n    path: '^/p/'\n" +
		"segments:\n  campaign: {utm_source: [newsletter]}\n" +
		"overlays:\n  rules:\n    - id: hello\n      kind: timed\n      pages: [product]\n      segments: [campaign]\n      title: Hello\n      text: From the newsletter.\n" +
		"      experiment: {name: hello-copy, variants: [{name: shout, weight: 50, title: HELLO THERE}]}\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, []string{secret}, "serve", "-config", cfgPath, "-watch=false")
	proxyURL := p.waitFor(t, `serving \S+ on (http://\S+)`)[1]

	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	runPreview := func(env string, args ...string) (code int, stdout, stderr string) {
		cmd := exec.Command(bin, append([]string{"preview", "-config", cfgPath}, args...)...)
		cmd.Env = append(os.Environ(), env)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errOut.String()
	}

	code, out, errOut := runPreview(secret, "-segment", "campaign", "-ttl", "30m", "-base", proxyURL)
	link := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(link, proxyURL+"/_shopedge/preview?t=") || !strings.Contains(errOut, `preview of segment "campaign" until `) {
		t.Fatalf("preview: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	v := proxytest.NewVisitor(t, proxyURL)
	pg := v.Get(link)
	if pg.Resp.StatusCode != http.StatusSeeOther || pg.Cookie("se_vid_preview") == nil || pg.Cookie("se_vid_preview").MaxAge > 1800 {
		t.Fatalf("opening the link: %d, cookie %v", pg.Resp.StatusCode, pg.Cookie("se_vid_preview"))
	}
	products := regexp.MustCompile(`href="(/p/[^"]+)"`).FindStringSubmatch(v.Get("/").Body)
	if products == nil {
		t.Fatal("no product on the home page")
	}
	pg = v.Get(products[1])
	if !strings.Contains(pg.Body, `preview: <b>campaign</b>`) || !strings.Contains(pg.Body, `data-se-overlay="hello"`) || !strings.HasPrefix(pg.Resp.Header.Get("Shopedge-Explain"), "overlay=hello") {
		t.Errorf("product page under preview: explain %q, badge or overlay missing", pg.Resp.Header.Get("Shopedge-Explain"))
	}
	if strings.Contains(pg.Body, "HELLO THERE") {
		t.Errorf("a preview of the segment alone shows the variant's title: every other experiment's action is as written")
	}

	// The segment and an arm of the overlay's experiment: the arm's copy.
	code, out, errOut = runPreview(secret, "-segment", "campaign", "-experiment", "hello-copy", "-arm", "shout", "-base", proxyURL)
	if code != 0 || !strings.Contains(errOut, `preview of segment "campaign" and arm "shout" of experiment "hello-copy" until `) {
		t.Fatalf("preview of an arm: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	v = proxytest.NewVisitor(t, proxyURL)
	v.Get(strings.TrimSpace(out))
	pg = v.Get(products[1])
	if !strings.Contains(pg.Body, `preview: <b>campaign, hello-copy: shout</b>`) || !strings.Contains(pg.Body, "HELLO THERE") {
		t.Errorf("product page under a preview of the arm shout: no badge for it or not the variant's title (explain %q)", pg.Resp.Header.Get("Shopedge-Explain"))
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-experiment", "nope", "-arm", "shout"}, `unknown experiment "nope"; known: hello-copy`},
		{[]string{"-experiment", "hello-copy", "-arm", "whisper"}, `experiment "hello-copy" has no arm "whisper"; arms: default, shout`},
		{[]string{"-experiment", "hello-copy"}, `experiment "hello-copy" needs an arm; arms: default, shout`},
	} {
		if code, _, errOut := runPreview(secret, tt.args...); code != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", tt.args, code, errOut, tt.want)
		}
	}

	// Without -base, the link is on server.listen, and says so.
	if code, out, errOut := runPreview(secret, "-segment", "new"); code != 0 || !strings.HasPrefix(out, "http://127.0.0.1:0/_shopedge/preview?t=") || !strings.Contains(errOut, "(from server.listen)") {
		t.Errorf("default base: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := runPreview(secret, "-segment", "vip"); code != 1 || !strings.Contains(errOut, `unknown segment "vip"; known: new, returning, customer, prospect, campaign`) {
		t.Errorf("unknown segment: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runPreview("SHOPEDGE_SECRET=", "-segment", "new"); code != 1 || !strings.Contains(errOut, "SHOPEDGE_SECRET") {
		t.Errorf("no secret: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := runPreview(secret); code != 2 {
		t.Errorf("no -segment: exit %d, want 2", code)
	}
}
