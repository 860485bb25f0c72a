package plan

import (
	"strings"
	"testing"
)

func TestFormatPrice(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		price    float64
		currency string
		want     string
	}{
		{19.5, "EUR", "€19.50"}, {8, "USD", "$8.00"}, {1200, "JPY", "¥1200"}, {19.9, "CHF", "19.90 CHF"}, {3, "", "3.00"}, {0, "EUR", ""},
	} {
		if got := FormatPrice(c.price, c.currency); got != c.want {
			t.Errorf("FormatPrice(%v, %q) = %q, want %q", c.price, c.currency, got, c.want)
		}
	}
}

// TestFill: a banner's text says what strings.ReplaceAll would, its
// placeholder anywhere, any number of times, in a text of any length.
func TestFill(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Free shipping on orders over {amount}. ", 12)
	for _, text := range []string{"", "{amount}", "Spend {amount} more", "no placeholder", "{amount} and {amount}", "{amount", long} {
		want := strings.ReplaceAll(text, "{amount}", "€5.00")
		if got := fill(text, "{amount}", []byte("€5.00")); got != want {
			t.Errorf("fill(%q) = %q, want %q", text, got, want)
		}
	}
}
