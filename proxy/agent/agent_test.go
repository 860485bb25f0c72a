package agent

import (
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
)

func TestIsBot(t *testing.T) {
	t.Parallel()
	c := New([]string{"AcmeMonitor"})
	tests := []struct {
		ua  string
		bot bool
	}{
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", true},
		{"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", true},
		{"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", true},
		{"curl/8.5.0", true},
		{"python-requests/2.31.0", true},
		{"Go-http-client/1.1", true},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36", true},
		{"acmemonitor/1.0", true},
		{"", true},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", false},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", false},
	}
	for pass := range 2 { // the second pass is answered from memory
		for _, tt := range tests {
			if got := c.IsBot([]byte(tt.ua)); got != tt.bot {
				t.Errorf("pass %d: IsBot(%q) = %v, want %v", pass, tt.ua, got, tt.bot)
			}
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ua   string
		want Device
	}{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Device{Desktop, Windows, Chrome}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", Device{Mobile, IOS, Safari}},
		{"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", Device{Tablet, IOS, Safari}},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", Device{Mobile, Android, Chrome}},
		{"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Device{Tablet, Android, Chrome}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:132.0) Gecko/20100101 Firefox/132.0", Device{Desktop, MacOS, Firefox}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", Device{Desktop, Windows, Edge}},
	}
	c := New(nil)
	for _, tt := range tests {
		if got := Parse([]byte(tt.ua)); got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.ua, got, tt.want)
		}
		for pass := range 2 { // the second pass is answered from memory
			if bot, got := c.Classify([]byte(tt.ua)); bot || got != tt.want {
				t.Errorf("pass %d: Classify(%q) = %v, %+v; want false, %+v", pass, tt.ua, bot, got, tt.want)
			}
		}
	}
	// A user agent in another's slot is told apart by its bytes.
	for i := range c.seen {
		c.seen[i].Store(&seenAgent{ua: "other", bot: true})
	}
	if bot, got := c.Classify([]byte(tests[0].ua)); bot || got != tests[0].want {
		t.Errorf("over another's slot: %v, %+v; want false, %+v", bot, got, tests[0].want)
	}
	// A long user agent is read and remembered by its first 512 bytes.
	long := []byte(tests[1].ua + strings.Repeat(" x", 400))
	for pass := range 2 {
		if bot, got := c.Classify(long); bot || got != tests[1].want {
			t.Errorf("pass %d, long: %v, %+v; want false, %+v", pass, bot, got, tests[1].want)
		}
	}
	if s := c.seen[xxhash.Sum64(long[:maxAgent])&(seenSlots-1)].Load(); s == nil || s.ua != string(long[:maxAgent]) {
		t.Error("a long user agent was not remembered by its first 512 bytes")
	}
}
