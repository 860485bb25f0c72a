package traffic

import "testing"

// TestClassify: each class, from each kind of evidence, and the order in
// which they win.
func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    Visit
		want Class
	}{
		{"nothing: direct", Visit{}, Direct},
		{"gclid", Visit{ClickID: true}, Paid},
		{"a click id beats a social referrer", Visit{ClickID: true, Referrer: "m.facebook.com"}, Paid},
		{"medium cpc", Visit{UTMSource: "google", UTMMedium: "cpc"}, Paid},
		{"medium paid_social", Visit{UTMMedium: "paid_social"}, Paid},
		{"medium Paid-Search, any case", Visit{UTMMedium: "Paid-Search"}, Paid},
		{"medium display", Visit{UTMMedium: "display"}, Paid},
		{"medium email", Visit{UTMSource: "newsletter", UTMMedium: "email"}, Email},
		{"medium e-mail", Visit{UTMMedium: "E-Mail"}, Email},
		{"medium newsletter", Visit{UTMMedium: "newsletter"}, Email},
		{"gmail", Visit{Referrer: "mail.google.com"}, Email},
		{"gmail's android app", Visit{Referrer: "com.google.android.gm"}, Email},
		{"outlook", Visit{Referrer: "outlook.live.com"}, Email},
		{"yahoo mail, not yahoo search", Visit{Referrer: "mail.yahoo.co.jp"}, Email},
		{"gmx.de", Visit{Referrer: "gmx.de"}, Email},
		{"medium social", Visit{UTMMedium: "social"}, Social},
		{"facebook", Visit{Referrer: "www.facebook.com"}, Social},
		{"l.facebook.com", Visit{Referrer: "l.facebook.com"}, Social},
		{"t.co", Visit{Referrer: "t.co"}, Social},
		{"x.com", Visit{Referrer: "x.com"}, Social},
		{"linkedin", Visit{Referrer: "www.linkedin.com"}, Social},
		{"lnkd.in", Visit{Referrer: "lnkd.in"}, Social},
		{"pinterest.de", Visit{Referrer: "www.pinterest.de"}, Social},
		{"pinterest.co.uk", Visit{Referrer: "pinterest.co.uk"}, Social},
		{"reddit", Visit{Referrer: "old.reddit.com"}, Social},
		{"youtube", Visit{Referrer: "m.youtube.com"}, Social},
		{"threads", Visit{Referrer: "threads.net"}, Social},
		{"tiktok", Visit{Referrer: "www.tiktok.com"}, Social},
		{"source facebook, no referrer", Visit{UTMSource: "facebook"}, Social},
		{"medium organic", Visit{UTMMedium: "organic"}, Search},
		{"google.com", Visit{Referrer: "www.google.com"}, Search},
		{"google.de", Visit{Referrer: "www.google.de"}, Search},
		{"google.co.uk", Visit{Referrer: "www.google.co.uk"}, Search},
		{"google.com.br", Visit{Referrer: "google.com.br"}, Search},
		{"bing", Visit{Referrer: "www.bing.com"}, Search},
		{"duckduckgo", Visit{Referrer: "duckduckgo.com"}, Search},
		{"yahoo.co.jp", Visit{Referrer: "search.yahoo.co.jp"}, Search},
		{"yandex.ru", Visit{Referrer: "yandex.ru"}, Search},
		{"ecosia", Visit{Referrer: "www.ecosia.org"}, Search},
		{"brave", Visit{Referrer: "search.brave.com"}, Search},
		{"naver", Visit{Referrer: "search.naver.com"}, Search},
		{"seznam", Visit{Referrer: "search.seznam.cz"}, Search},
		{"seznam's webmail", Visit{Referrer: "email.seznam.cz"}, Email},
		{"source google, no referrer", Visit{UTMSource: "google"}, Search},
		{"another site", Visit{Referrer: "blog.example.org"}, Referral},
		{"a look-alike of google", Visit{Referrer: "notgoogle.com"}, Referral},
		{"google under another site", Visit{Referrer: "google.com.evil.example"}, Referral},
		{"google as a subdomain of another site", Visit{Referrer: "google.example.net"}, Referral},
		{"a look-alike of t.co", Visit{Referrer: "at.co"}, Referral},
		{"brave.com is not its search", Visit{Referrer: "brave.com"}, Referral},
		{"a campaign nothing explains", Visit{UTMSource: "partner"}, Referral},
		{"medium referral", Visit{UTMSource: "partner", UTMMedium: "referral"}, Referral},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Classify(tt.v); got != tt.want {
				t.Errorf("Classify(%+v) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

// TestNames: every class has a name Parse reads back.
func TestNames(t *testing.T) {
	t.Parallel()
	for i, n := range Names() {
		if c, ok := Parse(n); !ok || c != Class(i) || c.String() != n {
			t.Errorf("Parse(%q) = %v, %v", n, c, ok)
		}
	}
	if _, ok := Parse("organic"); ok {
		t.Error("Parse took an unknown name")
	}
}

// TestClassifyAllocates nothing: it runs when a visit starts.
func TestClassifyAllocates(t *testing.T) {
	v := Visit{Referrer: "www.google.co.uk", UTMSource: "x", UTMMedium: "y"}
	if n := testing.AllocsPerRun(100, func() { Classify(v) }); n != 0 {
		t.Errorf("Classify allocates %v times", n)
	}
}
