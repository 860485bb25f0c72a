package identity

import (
	"testing"
	"time"
)

func BenchmarkIssue(b *testing.B) {
	now := t0
	is := newIssuer(b, &now, Key{"a", secretA})
	id := NewVisitorID()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := is.Issue(id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is a token seen for the first time: parse and HMAC.
func BenchmarkVerify(b *testing.B) {
	now := t0
	is := newIssuer(b, &now, Key{"a", secretA})
	tok, _ := is.Issue(NewVisitorID())
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := is.Verify(tok); !ok {
			b.Fatal("rejected")
		}
	}
}

// BenchmarkVerifyBytesSeen is a returning visitor's token, remembered.
func BenchmarkVerifyBytesSeen(b *testing.B) {
	now := t0.Add(time.Minute)
	is := newIssuer(b, &now, Key{"a", secretA})
	tok, _ := is.Issue(NewVisitorID())
	raw := []byte(tok)
	is.VerifyBytes(raw)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := is.VerifyBytes(raw); !ok {
			b.Fatal("rejected")
		}
	}
}
