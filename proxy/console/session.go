package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"sync"
	"time"
)

// Sessions and one-time codes.
const (
	CookieName  = "shopedge_console"
	sessionTTL  = 12 * time.Hour
	maxSessions = 256
	maxCodes    = 16
)

// CodeLifetime is how long a one-time sign-in code (OnceCode) is good for.
const CodeLifetime = time.Hour

type session struct {
	csrf    string
	expires time.Time
}

// sessions are the signed-in people, in memory: at most maxSessions, the
// one closest to expiry dropped to make room.
type sessions struct {
	mu    sync.Mutex
	byID  map[string]session
	codes map[string]time.Time // one-time sign-in codes, until when
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand's contract)
	return hex.EncodeToString(b)
}

func (s *sessions) start(now time.Time) (id string, sess session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]session{}
	}
	for k, v := range s.byID {
		if !now.Before(v.expires) {
			delete(s.byID, k)
		}
	}
	for len(s.byID) >= maxSessions {
		var oldest string
		for k, v := range s.byID {
			if oldest == "" || v.expires.Before(s.byID[oldest].expires) {
				oldest = k
			}
		}
		delete(s.byID, oldest)
	}
	id, sess = randomHex(32), session{csrf: randomHex(32), expires: now.Add(sessionTTL)}
	s.byID[id] = sess
	return id, sess
}

func (s *sessions) get(id string, now time.Time) (session, bool) {
	if id == "" {
		return session{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.byID[id]
	if ok && !now.Before(v.expires) {
		delete(s.byID, id)
		return session{}, false
	}
	return v, ok
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

// code makes a one-time sign-in code, good for CodeLifetime.
func (s *sessions) code(now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.codes == nil {
		s.codes = map[string]time.Time{}
	}
	for k, until := range s.codes {
		if !now.Before(until) {
			delete(s.codes, k)
		}
	}
	// At the cap, the oldest code goes: every code lives CodeLifetime, so
	// the oldest is the one closest to its end.
	for len(s.codes) >= maxCodes {
		var oldest string
		for k, until := range s.codes {
			if oldest == "" || until.Before(s.codes[oldest]) {
				oldest = k
			}
		}
		delete(s.codes, oldest)
	}
	c := randomHex(16)
	s.codes[c] = now.Add(CodeLifetime)
	return c
}

// redeem uses up a one-time code; false when it is unknown, used or old.
func (s *sessions) redeem(code string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, until := range s.codes {
		if subtle.ConstantTimeCompare([]byte(k), []byte(code)) == 1 {
			delete(s.codes, k)
			return now.Before(until)
		}
	}
	return false
}
