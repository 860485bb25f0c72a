package proxy

import (
	"strings"
	"testing"

	"shopedge/rules"
)

// TestSegmentTargetedBlock: a block for a segment (members: the shop's
// member cookie is set) is on the page of a member and not on the same
// page for anyone else, through the proxy, on the bytes the visitor gets;
// a block excluding the segment the other way round.
func TestSegmentTargetedBlock(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, func(c *rules.Config) {
		addSegments(c, map[string]rules.Condition{"members": {Cookie: &rules.Match{Name: "member"}}})
		for i := range c.Recommendations.Blocks {
			switch c.Recommendations.Blocks[i].ID {
			case "popular":
				c.Recommendations.Blocks[i].Segments = []string{"members"}
			case "recently-viewed":
				c.Recommendations.Blocks[i].Exclude = []string{"members"}
			}
		}
	})
	for _, tt := range []struct {
		name           string
		member         bool
		popular, other bool
	}{
		{"member", true, true, false},
		{"not a member", false, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := e.visitor()
			if tt.member {
				v.header.Set("Cookie", "member=1")
			}
			v.get(e.url + "/p/essential-grey-slip-dress-se-10001") // something recently viewed
			home := v.get(e.url + "/")
			if got := strings.Contains(home.body, `data-se-block="popular"`); got != tt.popular {
				t.Errorf("popular block on the home page: %v, want %v", got, tt.popular)
			}
			if got := strings.Contains(home.body, `data-se-block="recently-viewed"`); got != tt.other {
				t.Errorf("recently viewed block on the home page: %v, want %v", got, tt.other)
			}
		})
	}
}
