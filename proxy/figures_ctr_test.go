package proxy

import "testing"

// TestActionCTR: an overlay's CTR is clicks per time its script said it
// was shown, not per injection; a block's is per showing.
func TestActionCTR(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    ActionFigures
		want float64
	}{
		{"block", ActionFigures{Shown: 50, Clicks: 5}, 0.1},
		{"overlay seen", ActionFigures{Shown: 100, Seen: 20, Clicks: 5}, 0.25},
		{"overlay no word yet", ActionFigures{Shown: 40, Clicks: 2}, 0.05},
		{"never shown", ActionFigures{}, 0},
	} {
		if got := tc.a.CTR(); got != tc.want {
			t.Errorf("%s: CTR %v, want %v", tc.name, got, tc.want)
		}
	}
}
