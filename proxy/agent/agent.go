package agent

import (
	"bytes"
	"strings"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// Class is a device class.
type Class uint8

// Device classes.
const (
	Desktop Class = iota
	Mobile
	Tablet
)

func (c Class) String() string {
	return [...]string{"desktop", "mobile", "tablet"}[c]
}

// OS is an operating system.
type OS uint8

// Operating systems.
const (
	OSUnknown OS = iota
	IOS
	Android
	Windows
	MacOS
	Linux
	ChromeOS
)

func (o OS) String() string {
	return [...]string{"", "ios", "android", "windows", "macos", "linux", "chromeos"}[o]
}

// OSNames are the names of the operating systems told apart, as rules
// name them.
func OSNames() []string {
	var names []string
	for o := IOS; o <= ChromeOS; o++ {
		names = append(names, o.String())
	}
	return names
}

// Browser is a browser family.
type Browser uint8

// Browser families.
const (
	BrowserUnknown Browser = iota
	Chrome
	Safari
	Firefox
	Edge
	Opera
	Samsung
)

func (b Browser) String() string {
	return [...]string{"", "chrome", "safari", "firefox", "edge", "opera", "samsung"}[b]
}

// BrowserNames are the names of the browser families told apart, as rules
// name them.
func BrowserNames() []string {
	var names []string
	for b := Chrome; b <= Samsung; b++ {
		names = append(names, b.String())
	}
	return names
}

// Device describes a visitor's device. It is three bytes.
type Device struct {
	Class   Class
	OS      OS
	Browser Browser
}

// botMarkers are substrings (lowercase) of the user agents of crawlers,
// monitors, link previewers, headless browsers and HTTP libraries.
var botMarkers = []string{
	"bot", "crawl", "spider", "slurp", "mediapartners", "facebookexternalhit", "facebot",
	"embedly", "quora link preview", "outbrain", "pinterest", "vkshare", "w3c_validator",
	"whatsapp", "skypeuripreview", "lighthouse", "pagespeed", "headlesschrome", "phantomjs",
	"curl/", "wget/", "python-requests", "python-urllib", "aiohttp", "httpx", "go-http-client",
	"java/", "okhttp", "libwww", "apache-httpclient", "node-fetch", "axios/", "undici",
	"postman", "insomnia", "scrapy", "httpie", "uptime", "pingdom", "statuscake", "datadog",
	"newrelic", "ahrefs", "semrush", "mj12", "dotbot", "petalbot", "bytespider", "gptbot",
	"ccbot", "claudebot", "perplexity", "feedfetcher", "preview", "validator", "monitor",
	"fasthttp", "k6/", "vegeta", "hey/", "wrk", "apachebench", "siege",
}

// Classifier tells bots from people, and people's devices. It remembers
// recent answers: a shop's traffic repeats a few thousand user agents. It
// is safe for concurrent use.
type Classifier struct {
	markers []string
	seen    [seenSlots]atomic.Pointer[seenAgent]
}

const seenSlots = 1 << 12

type seenAgent struct {
	ua     string
	bot    bool
	device Device
}

// New returns a Classifier recognising the built-in markers and extra ones
// (case-insensitive substrings).
func New(extra []string) *Classifier {
	m := append([]string(nil), botMarkers...)
	for _, e := range extra {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			m = append(m, e)
		}
	}
	return &Classifier{markers: m}
}

// IsBot reports whether a user agent is a crawler or a tool. An empty user
// agent is a tool.
func (c *Classifier) IsBot(ua []byte) bool {
	bot, _ := c.Classify(ua)
	return bot
}

// Classify reports whether a user agent is a crawler or a tool, as IsBot,
// and the device it reads as, as Parse (a bot's is the zero Device): a
// user agent seen recently costs a lookup, where Parse costs a couple of
// microseconds (every new visit reads its device).
//
// A user agent is read by its first maxAgent bytes, and remembered by
// them: a longer one (a tool's, or a client's sending a new one each time)
// costs a lookup like any other once seen.
func (c *Classifier) Classify(ua []byte) (bot bool, d Device) {
	ua = ua[:min(len(ua), maxAgent)]
	slot := &c.seen[xxhash.Sum64(ua)&(seenSlots-1)]
	if s := slot.Load(); s != nil && s.ua == string(ua) {
		return s.bot, s.device
	}
	bot = c.isBot(ua)
	if !bot {
		d = Parse(ua)
	}
	slot.Store(&seenAgent{ua: string(ua), bot: bot, device: d})
	return bot, d
}

// maxAgent is how much of a user agent is read: browsers' are a few
// hundred bytes.
const maxAgent = 512

func (c *Classifier) isBot(ua []byte) bool {
	if len(bytes.TrimSpace(ua)) == 0 {
		return true
	}
	var buf [maxAgent]byte
	l := lowerInto(buf[:0], ua)
	for _, m := range c.markers {
		if bytes.Contains(l, []byte(m)) {
			return true
		}
	}
	return false
}

func lowerInto(dst, s []byte) []byte {
	if len(s) > maxAgent {
		s = s[:maxAgent]
	}
	for _, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// Parse reads the device from a user agent.
func Parse(ua []byte) Device {
	var buf [maxAgent]byte
	l := lowerInto(buf[:0], ua)
	has := func(s string) bool { return bytes.Contains(l, []byte(s)) }
	var d Device
	switch {
	case has("ipad"), has("tablet"), has("kindle"), has("silk/"), has("android") && !has("mobile"):
		d.Class = Tablet
	case has("mobi"), has("iphone"), has("ipod"), has("windows phone"), has("blackberry"):
		d.Class = Mobile
	}
	switch {
	case has("iphone"), has("ipad"), has("ipod"):
		d.OS = IOS
	case has("android"):
		d.OS = Android
	case has("cros"):
		d.OS = ChromeOS
	case has("windows"):
		d.OS = Windows
	case has("mac os x"), has("macintosh"):
		d.OS = MacOS
	case has("linux"):
		d.OS = Linux
	}
	switch {
	case has("edg/"), has("edga/"), has("edgios/"):
		d.Browser = Edge
	case has("opr/"), has("opera"):
		d.Browser = Opera
	case has("samsungbrowser"):
		d.Browser = Samsung
	case has("firefox/"), has("fxios/"):
		d.Browser = Firefox
	case has("chrome/"), has("crios/"):
		d.Browser = Chrome
	case has("safari/"):
		d.Browser = Safari
	}
	return d
}
