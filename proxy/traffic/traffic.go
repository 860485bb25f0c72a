package traffic

import "strings"

// Class is what kind of traffic a visit is. The zero Class is Direct.
type Class uint8

// The classes.
const (
	Direct Class = iota
	Search
	Social
	Paid
	Email
	Referral
)

var names = [...]string{"direct", "search", "social", "paid", "email", "referral"}

// String returns the class's name, as configurations write it.
func (c Class) String() string {
	if int(c) < len(names) {
		return names[c]
	}
	return "direct"
}

// Names returns the classes' names, in Class order.
func Names() []string { return append([]string(nil), names[:]...) }

// Parse returns the class of a name (lowercase), and whether there is one.
func Parse(name string) (Class, bool) {
	for i, n := range names {
		if n == name {
			return Class(i), true
		}
	}
	return Direct, false
}

// ClickIDs are the query parameters ad networks add to the links of their
// ads: a landing URL with one of them is paid traffic. The names are as
// the networks spell them.
var ClickIDs = [...]string{
	"gclid", "gclsrc", "gbraid", "wbraid", "dclid", // Google Ads, Display & Video 360
	"msclkid",   // Microsoft Advertising
	"fbclid",    // Meta (Facebook, Instagram)
	"ttclid",    // TikTok
	"twclid",    // X (Twitter)
	"li_fat_id", // LinkedIn
	"epik",      // Pinterest
	"ScCid",     // Snapchat
	"rdt_cid",   // Reddit
	"yclid",     // Yandex Direct
}

// Visit is what Classify reads of a visit's first request.
type Visit struct {
	// Referrer is the referring host, lowercase; "" when there is none or
	// it is the shop itself.
	Referrer string
	// UTMSource and UTMMedium are the landing URL's parameters.
	UTMSource, UTMMedium string
	// ClickID is true when the landing URL has one of ClickIDs.
	ClickID bool
}

// The campaign mediums of each class, lowercase.
var (
	paidMediums   = []string{"cpc", "ppc", "cpm", "cpv", "cpa", "display", "banner", "retargeting", "remarketing"}
	emailMediums  = []string{"email", "e-mail", "e_mail", "e mail", "mail", "newsletter"}
	socialMediums = []string{"social", "social-network", "social-media", "sm", "social network", "social media"}
	searchMediums = []string{"organic"}
)

// The referring hosts of each class: a host, matching it and its
// subdomains, or "name.*", matching name under any ending of one or two
// labels.
var (
	emailHosts = []string{
		"mail.google.com", "com.google.android.gm", "inbox.google.com",
		"outlook.live.com", "outlook.office.com", "outlook.office365.com", "mail.live.com",
		"mail.yahoo.*", "mail.aol.com", "mail.proton.me", "mail.protonmail.com", "mail.yandex.*",
		"mail.zoho.com", "gmx.*", "web.de", "e.mail.ru", "email.t-online.de", "mail.com",
		"app.fastmail.com", "mail.tuta.com", "posteo.de", "email.seznam.cz", "mail.libero.it",
	}
	socialHosts = []string{
		"facebook.com", "fb.com", "fb.me", "messenger.com", "instagram.com", "l.instagram.com",
		"t.co", "x.com", "twitter.com", "linkedin.com", "lnkd.in", "pinterest.*", "pin.it",
		"reddit.com", "tiktok.com", "youtube.com", "youtu.be", "threads.net", "threads.com",
		"snapchat.com", "tumblr.com", "vk.com", "ok.ru", "bsky.app", "mastodon.social",
		"whatsapp.com", "wa.me", "telegram.org", "t.me", "discord.com", "quora.com", "weibo.com", "xing.com",
		"com.facebook.katana", "com.instagram.android", "com.linkedin.android", "com.twitter.android",
	}
	searchHosts = []string{
		"google.*", "bing.com", "duckduckgo.com", "yahoo.*", "baidu.com", "yandex.*", "ya.ru",
		"ecosia.org", "qwant.com", "startpage.com", "search.brave.com", "naver.com", "seznam.cz",
		"ask.com", "aol.com", "so.com", "sogou.com", "daum.net", "kagi.com",
		"mojeek.com", "metager.org", "com.google.android.googlequicksearchbox",
	}
	socialSources = []string{
		"facebook", "fb", "instagram", "ig", "twitter", "x", "linkedin", "pinterest", "reddit",
		"tiktok", "youtube", "threads", "snapchat", "tumblr", "bluesky", "mastodon", "whatsapp", "telegram",
	}
	searchSources = []string{
		"google", "bing", "duckduckgo", "yahoo", "baidu", "yandex", "ecosia", "qwant", "startpage",
		"brave", "naver", "seznam",
	}
)

// Classify returns the class of a visit (see the package's documentation
// for the table). It allocates nothing.
func Classify(v Visit) Class {
	medium := strings.TrimSpace(v.UTMMedium)
	switch {
	case v.ClickID || oneOf(paidMediums, medium) || len(medium) >= 4 && strings.EqualFold(medium[:4], "paid"):
		return Paid
	case oneOf(emailMediums, medium) || hostIn(emailHosts, v.Referrer):
		return Email
	case oneOf(socialMediums, medium):
		return Social
	case oneOf(searchMediums, medium):
		return Search
	case hostIn(socialHosts, v.Referrer):
		return Social
	case hostIn(searchHosts, v.Referrer):
		return Search
	case v.Referrer != "":
		return Referral
	}
	source := strings.TrimSpace(v.UTMSource)
	switch {
	case source == "":
		return Direct
	case oneOf(socialSources, source):
		return Social
	case oneOf(searchSources, source):
		return Search
	}
	return Referral
}

// oneOf reports whether s is one of list, without case.
func oneOf(list []string, s string) bool {
	if s == "" {
		return false
	}
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// hostIn reports whether host matches one of the entries.
func hostIn(entries []string, host string) bool {
	if host == "" {
		return false
	}
	for _, e := range entries {
		if HostMatches(e, host) {
			return true
		}
	}
	return false
}

// HostMatches reports whether host (lowercase) matches a table entry: the
// entry itself or a subdomain of it, or for "name.*", the label name
// followed by one or two labels (google.de, google.co.uk) of which a
// first of two has at most three letters (co, com, ne).
func HostMatches(entry, host string) bool {
	name, wild := strings.CutSuffix(entry, ".*")
	if !wild {
		return host == entry || strings.HasSuffix(host, entry) && host[len(host)-len(entry)-1] == '.'
	}
	for i := 0; i+len(name) < len(host); {
		if strings.HasPrefix(host[i:], name) && host[i+len(name)] == '.' && (i == 0 || host[i-1] == '.') && suffixLabels(host[i+len(name)+1:]) {
			return true
		}
		j := strings.IndexByte(host[i:], '.')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return false
}

// suffixLabels reports whether rest is an ending like com, de, co.uk or
// com.br: one label, or two of which the first has at most three letters.
func suffixLabels(rest string) bool {
	first, second, two := strings.Cut(rest, ".")
	switch {
	case first == "":
		return false
	case !two:
		return true
	}
	return len(first) <= 3 && second != "" && !strings.Contains(second, ".")
}
