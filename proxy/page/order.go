package page

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"shopedge/proxy/catalog"
	"shopedge/rewrite"
	"shopedge/rules"
)

// Order is the order a purchase page shows: what experiments count as
// revenue. It is what the page says, from the shop's own markup; the
// number and the currency are clipped text, never trusted further.
type Order struct {
	// Number is the order's number (orderNumber, an Invoice's
	// confirmationNumber), "" when the page gives none.
	Number string
	// Total is what the order cost, in Currency, never negative.
	Total float64
	// Currency is the total's ISO 4217 code, upper case; "" when neither
	// the page nor events.purchase.currency says.
	Currency string
	// Items is how many articles the order holds (its lines' quantities
	// summed), 0 when the page does not list them.
	Items int
	// Source is where Total came from.
	Source OrderSource
}

// OrderSource is where an order's total was read.
type OrderSource uint8

// The sources of an order's total.
const (
	OrderNone     OrderSource = iota // no total
	OrderJSONLD                      // schema.org Order or Invoice JSON-LD
	OrderSelector                    // events.purchase.selector's text (and its pattern)
	OrderPattern                     // events.purchase.pattern over the page's HTML
)

var orderSourceNames = [...]string{"none", "jsonld", "selector", "pattern"}

func (s OrderSource) String() string {
	if int(s) < len(orderSourceNames) {
		return orderSourceNames[s]
	}
	return "source(" + strconv.Itoa(int(s)) + ")"
}

// Bounds on what an order keeps of a page, and on what counts as a total:
// a page's markup must not make the proxy count a billion in revenue.
const (
	maxOrderNumber = 64
	maxTotal       = 1e9
	maxItems       = 100000
	maxOrderDepth  = 8 // nesting followed to find an Order in JSON-LD
)

// readOrder reads a purchase page's order: its schema.org Order or
// Invoice JSON-LD first, then events.purchase's selector or pattern for
// the total (and its currency) when the JSON-LD gives none. ok is false
// when no total was found; the order may still hold its number and items.
func readOrder(doc *rewrite.Doc, body []byte, cfg *rules.Compiled) (o Order, ok bool) {
	p := cfg.Events.Purchase
	def := ""
	if p != nil {
		def = p.Currency
	}
	if blocks := doc.JSONLD(); len(blocks) > 0 {
		if o, ok = OrderFromJSONLD(blocks, def); ok {
			return o, true
		}
	}
	if p == nil {
		return o, false
	}
	var text string
	var src OrderSource
	switch {
	case !p.Selector.IsZero():
		found := doc.Find(p.Selector)
		if len(found) == 0 {
			return o, false
		}
		text, src = found[0].Text(), OrderSelector
		if re := p.Pattern.Regexp; re != nil {
			m := re.FindStringSubmatchIndex(text)
			if m == nil || m[2] < 0 {
				return o, false
			}
			// The whole text names the currency ("Total: 12,50 €"), the
			// group holds the amount.
			total, cur, ok := ParseAmount(text[m[2]:m[3]], amountCurrency(text, m[2], m[3], def))
			if !ok || total > maxTotal {
				return o, false
			}
			o.Total, o.Currency, o.Source = total, cur, src
			return o, true
		}
	case p.Pattern.Regexp != nil:
		m := p.Pattern.FindSubmatchIndex(body)
		if m == nil || m[2] < 0 {
			return o, false
		}
		total, cur, ok := ParseAmount(string(body[m[2]:m[3]]), amountCurrency(string(body[m[0]:m[1]]), m[2]-m[0], m[3]-m[0], def))
		if !ok || total > maxTotal {
			return o, false
		}
		o.Total, o.Currency, o.Source = total, cur, OrderPattern
		return o, true
	default:
		return o, false
	}
	total, cur, ok := ParseAmount(text, def)
	if !ok || total > maxTotal {
		return o, false
	}
	o.Total, o.Currency, o.Source = total, cur, src
	return o, true
}

// OrderFromJSONLD reads the order from a page's JSON-LD blocks: the
// schema.org Order (or Invoice) nested least deep, in @graph and lists
// too. The total is totalPaymentDue (a PriceSpecification, a
// MonetaryAmount, a number or text), else the Order's price (or
// totalPrice), else an Invoice's that the Order is part of, else the sum
// of its lines: acceptedOffer (price × eligibleQuantity) or orderedItem
// (OrderItem: its price, or its product's offer, × orderQuantity). Items
// are the lines' quantities summed. currency is the code of a total the
// markup gives none for ("" for none). ok is false when no Order or
// Invoice with a total is found; malformed blocks are skipped.
func OrderFromJSONLD(blocks [][]byte, currency string) (o Order, ok bool) {
	node, found := findOrder(blocks)
	if !found {
		return Order{}, false
	}
	order, invoice := node, map[string]any(nil)
	if catalog.HasType(node, "Invoice") {
		invoice = node
		order, _ = first(node["referencesOrder"]).(map[string]any)
	} else {
		invoice, _ = first(node["partOfInvoice"]).(map[string]any)
	}
	if order != nil {
		o.Number = ldNumber(order, "orderNumber", "confirmationNumber", "identifier")
	}
	if o.Number == "" && invoice != nil {
		o.Number = ldNumber(invoice, "confirmationNumber", "identifier", "accountId")
	}
	var lines lineSum
	if order != nil {
		lines = orderLines(order)
		o.Items = lines.items
	}
	var m money
	for _, n := range [2]map[string]any{order, invoice} {
		if n == nil || m.ok {
			continue
		}
		nodeCur := ldCurrency(n["priceCurrency"])
		for _, k := range [...]string{"totalPaymentDue", "price", "totalPrice", "minimumPaymentDue"} {
			if v, has := n[k]; has {
				if m = ldMoney(v, nodeCur); m.ok {
					break
				}
			}
		}
	}
	if !m.ok && lines.ok {
		m = money{amount: lines.total, currency: lines.currency, ok: true}
	}
	if !m.ok || m.amount > maxTotal {
		return o, false
	}
	o.Total, o.Currency, o.Source = m.amount, m.currency, OrderJSONLD
	if o.Currency == "" && order != nil {
		o.Currency = ldCurrency(order["priceCurrency"])
	}
	if o.Currency == "" {
		o.Currency = lines.currency
	}
	if o.Currency == "" {
		o.Currency = currency
	}
	return o, true
}

// findOrder returns the page's Order or Invoice nested least deep (an
// Order in a WebPage's mainEntity, not one an Invoice references): the
// first of them, in the page's order. An Order is preferred to an
// Invoice at the same depth.
func findOrder(blocks [][]byte) (map[string]any, bool) {
	var best map[string]any
	bestDepth, bestInvoice := math.MaxInt, true
	for _, raw := range blocks {
		v, err := catalog.DecodeJSONLD(raw)
		if err != nil {
			continue
		}
		walkLD(v, 0, func(n map[string]any, depth int) {
			isOrder, isInvoice := catalog.HasType(n, "Order"), catalog.HasType(n, "Invoice")
			if !isOrder && !isInvoice {
				return
			}
			if depth < bestDepth || depth == bestDepth && bestInvoice && isOrder {
				best, bestDepth, bestInvoice = n, depth, !isOrder
			}
		})
	}
	return best, best != nil
}

// walkLD is catalog.WalkJSONLD down to maxOrderDepth.
func walkLD(v any, depth int, f func(map[string]any, int)) {
	catalog.WalkJSONLD(v, depth, func(n map[string]any, d int) {
		if d <= maxOrderDepth {
			f(n, d)
		}
	})
}

// first is a JSON-LD value, or the first element of a list.
func first(v any) any {
	if l, ok := v.([]any); ok {
		if len(l) == 0 {
			return nil
		}
		return l[0]
	}
	return v
}

// ldText is a JSON-LD value as text: a string trimmed, a number
// formatted, the first of a list, an object's @value.
func ldText(v any) string {
	switch t := first(v).(type) {
	case string:
		return strings.TrimSpace(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case map[string]any:
		return ldText(t["@value"])
	}
	return ""
}

// ldNumber is the first of the keys a node gives as an order number
// (a PropertyValue's value too), clipped and without control characters.
func ldNumber(n map[string]any, keys ...string) string {
	for _, k := range keys {
		v := first(n[k])
		if pv, ok := v.(map[string]any); ok {
			v = pv["value"]
		}
		if s := cleanNumber(ldText(v)); s != "" {
			return s
		}
	}
	return ""
}

// cleanNumber keeps an order number printable and short.
func cleanNumber(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > maxOrderNumber {
		s = s[:maxOrderNumber]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// money is an amount and its currency ("" when unknown).
type money struct {
	amount   float64
	currency string
	ok       bool
}

// ldMoney reads a JSON-LD price: a number, text ("1234.50", "€ 1.234,50",
// "1234.50 EUR"), a PriceSpecification (price, priceCurrency) or a
// MonetaryAmount (value, currency); the first of a list. cur is the
// currency the node around it names.
func ldMoney(v any, cur string) money {
	switch t := first(v).(type) {
	case float64:
		if t < 0 || t > maxTotal || math.IsNaN(t) {
			return money{}
		}
		return money{amount: t, currency: cur, ok: true}
	case string:
		a, c, ok := ldAmount(t)
		if !ok {
			return money{}
		}
		if c == "" {
			c = cur
		}
		return money{amount: a, currency: c, ok: true}
	case map[string]any:
		if c := ldCurrency(first(t["priceCurrency"])); c != "" {
			cur = c
		} else if c := ldCurrency(first(t["currency"])); c != "" {
			cur = c
		}
		for _, k := range [...]string{"price", "value", "@value"} {
			if inner, has := t[k]; has {
				if _, nested := first(inner).(map[string]any); !nested {
					if m := ldMoney(inner, cur); m.ok {
						return m
					}
				}
			}
		}
		if spec, has := t["priceSpecification"]; has {
			return ldMoney(spec, cur)
		}
	}
	return money{}
}

// plainDecimal is how schema.org asks prices to be written: digits and a
// dot.
var plainDecimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// ldAmount reads a JSON-LD price written as text: a plain decimal is read
// as schema.org means it ("1.234" is one and a bit), anything else as a
// shop writes it on a page.
func ldAmount(s string) (float64, string, bool) {
	s = strings.TrimSpace(s)
	if plainDecimal.MatchString(s) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v > maxTotal {
			return 0, "", false
		}
		return v, "", true
	}
	a, c, ok := ParseAmount(s, "")
	if !ok || a > maxTotal {
		return 0, "", false
	}
	return a, c, true
}

// ldCurrency reads a priceCurrency: an ISO 4217 code (any case), or a
// symbol only one currency uses.
func ldCurrency(v any) string {
	s := strings.TrimSpace(ldText(v))
	if u := strings.ToUpper(s); rules.IsCurrency(u) {
		return u
	}
	if c, shared := symbolCurrency(s); !shared {
		return c
	}
	return ""
}

// lineSum is what an order's lines add up to.
type lineSum struct {
	total    float64
	currency string // the lines' currency, when they all give the same
	items    int
	lines    int  // lines with a price
	ok       bool // every line has a price
}

// orderLines sums an Order's lines: its acceptedOffer list (price ×
// eligibleQuantity), or else its orderedItem list (OrderItems with
// orderQuantity, or products, one each).
func orderLines(order map[string]any) lineSum {
	var s lineSum
	if offers := list(order["acceptedOffer"]); len(offers) > 0 {
		s.ok = true
		for _, e := range offers {
			o, _ := e.(map[string]any)
			if o == nil {
				s.ok = false
				continue
			}
			q := quantity(o["eligibleQuantity"])
			s.add(q, ldMoney(o, ldCurrency(o["priceCurrency"])))
		}
		return s
	}
	items := list(order["orderedItem"])
	s.ok = len(items) > 0
	for _, e := range items {
		it, _ := e.(map[string]any)
		if it == nil {
			s.ok = false
			continue
		}
		if !catalog.HasType(it, "OrderItem") {
			s.add(1, productPrice(it))
			continue
		}
		q := quantity(it["orderQuantity"])
		m := ldMoney(it, ldCurrency(it["priceCurrency"]))
		if !m.ok {
			if p, _ := first(it["orderedItem"]).(map[string]any); p != nil {
				m = productPrice(p)
			}
		}
		s.add(q, m)
	}
	return s
}

// add adds a line of q articles at price m each.
func (s *lineSum) add(q int, m money) {
	s.items = min(s.items+q, maxItems)
	if !m.ok {
		s.ok = false
		return
	}
	s.total = math.Round((s.total+float64(q)*m.amount)*100) / 100
	switch {
	case s.lines == 0:
		s.currency = m.currency
	case m.currency != s.currency:
		s.currency = "" // lines in several currencies, or some in none: say none
	}
	s.lines++
}

// productPrice is the price of a Product in an order line: its offers'
// price, or its own.
func productPrice(p map[string]any) money {
	if o, _ := first(p["offers"]).(map[string]any); o != nil {
		if m := ldMoney(o, ldCurrency(o["priceCurrency"])); m.ok {
			return m
		}
	}
	return ldMoney(p, ldCurrency(p["priceCurrency"]))
}

// quantity reads a line's quantity: a number, text, or a
// QuantitativeValue (value); 1 when absent or not a positive whole
// number.
func quantity(v any) int {
	if q, ok := first(v).(map[string]any); ok {
		v = q["value"]
	}
	n, err := strconv.ParseFloat(ldText(v), 64)
	if err != nil || n < 1 || n > maxItems || n != math.Trunc(n) {
		return 1
	}
	return int(n)
}

// list is a JSON-LD value as a list (one value is a list of one).
func list(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	}
	return []any{v}
}

// ParseAmount reads an amount of money as shops write it, and its
// currency: "1.234,56 €", "$1,234.56", "CHF 1'234.50", "1 234,56 EUR",
// "₹1,23,456.00", "1234.5". The first number in s is the amount; the
// last of its separators is the decimal one, unless it is the only one
// and three digits follow it ("1,234" and "1.234" are 1234, but
// "KWD 1.234" is one and a bit: its currency has three decimals). The
// currency is an ISO 4217 code or a symbol next to the number, else a
// symbol only one currency uses elsewhere in s, else def; $ and ¥ (which
// several currencies use) are def, else USD and JPY. ok is false when s
// holds no number, a negative one, or separators no shop writes.
func ParseAmount(s, def string) (amount float64, currency string, ok bool) {
	start, end := numberSpan(s)
	if start < 0 || negative(s[:start]) {
		return 0, "", false
	}
	currency = amountCurrency(s, start, end, def)
	amount, ok = parseNumber(s[start:end], currency)
	return amount, currency, ok
}

// numberSpan is where the first number in s is: digits, and the
// separators between them ('.', ',', and spaces or apostrophes followed
// by exactly three digits). start is -1 when s has no digit.
func numberSpan(s string) (start, end int) {
	start = strings.IndexFunc(s, isDigit)
	if start < 0 {
		return -1, -1
	}
	end = start
	for end < len(s) {
		if isDigit(rune(s[end])) {
			end++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[end:])
		next := s[end+size:]
		switch {
		case (r == '.' || r == ',') && next != "" && isDigit(rune(next[0])):
		case isGrouping(r) && threeDigits(next):
		default:
			return start, end
		}
		end += size
	}
	return start, end
}

func isDigit(r rune) bool { return '0' <= r && r <= '9' }

// isGrouping reports whether r only ever groups thousands: a space (a
// no-break or thin one too) or an apostrophe (Swiss francs).
func isGrouping(r rune) bool {
	switch r {
	case ' ', '\u00a0', '\u202f', '\u2009', '\'', '\u2019':
		return true
	}
	return false
}

// threeDigits reports whether s starts with exactly three digits.
func threeDigits(s string) bool {
	return len(s) >= 3 && isDigit(rune(s[0])) && isDigit(rune(s[1])) && isDigit(rune(s[2])) &&
		(len(s) == 3 || !isDigit(rune(s[3])))
}

// negative reports whether what comes before a number makes it negative:
// a minus sign, perhaps before a currency ("-€5", "− 5").
func negative(before string) bool {
	trim := func(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Sc, r) || unicode.IsLetter(r) }
	for _, b := range [2]string{strings.TrimRightFunc(before, unicode.IsSpace), strings.TrimRightFunc(before, trim)} {
		if strings.HasSuffix(b, "-") || strings.HasSuffix(b, "\u2212") {
			return true
		}
	}
	return false
}

// threeDecimals are the currencies whose minor unit is a thousandth.
const threeDecimals = "BHD IQD JOD KWD LYD OMR TND"

// parseNumber reads a number numberSpan found, its separators read as a
// shop in currency writes them.
func parseNumber(num, currency string) (float64, bool) {
	var groups []string
	var seps []rune
	from := 0
	for i, r := range num {
		if isDigit(r) {
			continue
		}
		if i == from || r != '.' && r != ',' && !isGrouping(r) {
			return 0, false // two separators in a row, a leading one, or not a number
		}
		groups = append(groups, num[from:i])
		from = i + utf8.RuneLen(r)
		if isGrouping(r) {
			r = ' '
		}
		seps = append(seps, r)
	}
	if from >= len(num) {
		return 0, false
	}
	groups = append(groups, num[from:])
	if len(num) > 40 {
		return 0, false
	}
	n := len(seps)
	dec := -1 // the decimal separator's index in seps
	if n > 0 {
		last := seps[n-1]
		if last == '.' || last == ',' {
			count, other := 0, false
			for _, r := range seps {
				if r == last {
					count++
				} else {
					other = true
				}
			}
			zero := strings.Trim(groups[0], "0") == "" && n == 1
			if count == 1 && (other || zero || len(groups[n]) != 3 || len(currency) == 3 && strings.Contains(threeDecimals, currency)) {
				dec = n - 1
			}
		}
	}
	// The separators before the decimal one group thousands: all alike,
	// after a first group of one to three digits, groups of two (lakhs)
	// or three, the last of three.
	grouped := n
	if dec >= 0 {
		grouped = dec
	}
	if grouped > 0 {
		if len(groups[0]) > 3 {
			return 0, false
		}
		for j := 0; j < grouped; j++ {
			g := groups[j+1]
			if seps[j] != seps[0] || len(g) < 2 || len(g) > 3 || j == grouped-1 && len(g) != 3 {
				return 0, false
			}
		}
	}
	var b strings.Builder
	for j, g := range groups {
		if j == dec+1 && dec >= 0 {
			b.WriteByte('.')
		}
		b.WriteString(g)
	}
	v, err := strconv.ParseFloat(b.String(), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// currencySymbols are the signs shops write for currencies, longest
// first where one ends another (US$ before $). A symbol several
// currencies use has shared set, and code the one it most often means.
var currencySymbols = [...]struct {
	sym, code string
	shared    bool
}{
	{"US$", "USD", false}, {"R$", "BRL", false}, {"CA$", "CAD", false}, {"AU$", "AUD", false},
	{"A$", "AUD", false}, {"NZ$", "NZD", false}, {"HK$", "HKD", false}, {"S$", "SGD", false},
	{"MX$", "MXN", false}, {"NT$", "TWD", false},
	{"€", "EUR", false}, {"£", "GBP", false}, {"₹", "INR", false}, {"₩", "KRW", false},
	{"₽", "RUB", false}, {"₺", "TRY", false}, {"₴", "UAH", false}, {"₪", "ILS", false},
	{"฿", "THB", false}, {"₫", "VND", false}, {"₱", "PHP", false}, {"₦", "NGN", false},
	{"₡", "CRC", false}, {"₲", "PYG", false}, {"₸", "KZT", false}, {"₼", "AZN", false},
	{"₾", "GEL", false}, {"zł", "PLN", false}, {"Kč", "CZK", false}, {"Ft", "HUF", false},
	{"lei", "RON", false}, {"лв", "BGN", false},
	{"&euro;", "EUR", false}, {"&#8364;", "EUR", false}, {"&pound;", "GBP", false}, // in a pattern's match of the HTML
	{"$", "USD", true}, {"¥", "JPY", true}, {"￥", "JPY", true}, {"kr", "", true},
}

// symbolCurrency is the currency a symbol written alone stands for;
// shared is true for a symbol several currencies use, and for anything
// that is not a symbol (code "").
func symbolCurrency(s string) (code string, shared bool) {
	s = strings.TrimSpace(s)
	for _, c := range currencySymbols {
		if s == c.sym {
			return c.code, c.shared
		}
	}
	return "", true
}

// amountCurrency is the currency of the amount at s[start:end]: an ISO
// 4217 code or a symbol right before or after it, else a symbol only one
// currency uses anywhere in s, else def; a shared symbol ($, ¥, kr) is
// def, else the currency it most often means.
func amountCurrency(s string, start, end int, def string) string {
	before := strings.TrimRightFunc(s[:start], func(r rune) bool { return unicode.IsSpace(r) || r == '-' || r == '\u2212' })
	after := strings.TrimLeftFunc(s[end:], unicode.IsSpace)
	if c := codeAt(lastWord(before)); c != "" {
		return c
	}
	if c := codeAt(firstWord(after)); c != "" {
		return c
	}
	shared := ""
	for _, c := range currencySymbols {
		if symbolEnds(before, c.sym) || symbolStarts(after, c.sym) {
			if !c.shared {
				return c.code
			}
			if shared == "" {
				shared = c.code
				if shared == "" {
					shared = "-" // kr: no usual currency
				}
			}
		}
	}
	if shared == "" {
		for _, c := range currencySymbols {
			if !c.shared && !isLetters(c.sym) && strings.Contains(s, c.sym) {
				return c.code
			}
		}
	}
	switch {
	case def != "":
		return def
	case shared == "-":
		return ""
	}
	return shared
}

// codeAt is w upper-cased when it is an ISO 4217 code written in capitals.
func codeAt(w string) string {
	if len(w) == 3 && strings.ToUpper(w) == w && rules.IsCurrency(w) {
		return w
	}
	return ""
}

// lastWord and firstWord are the letters at the end and the start of s.
func lastWord(s string) string {
	i := strings.LastIndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	return s[i+1:]
}

func firstWord(s string) string {
	if i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }); i >= 0 {
		return s[:i]
	}
	return s
}

// symbolEnds and symbolStarts report whether s ends or starts with sym,
// a whole word when sym is letters (Ft, not the end of "Gift").
func symbolEnds(s, sym string) bool {
	if !strings.HasSuffix(s, sym) {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s[:len(s)-len(sym)])
	return !isLetters(sym) || r == utf8.RuneError || !unicode.IsLetter(r)
}

func symbolStarts(s, sym string) bool {
	if !strings.HasPrefix(s, sym) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[len(sym):])
	return !isLetters(sym) || r == utf8.RuneError || !unicode.IsLetter(r)
}

// isLetters reports whether s is all letters.
func isLetters(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return s != ""
}
