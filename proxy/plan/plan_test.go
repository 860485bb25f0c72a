package plan

import "testing"

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
