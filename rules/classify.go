package rules

// Classify returns the type of the page at path (the URL path, undecoded)
// and the rule that matched, or PageOther and nil.
func (c *Config) Classify(path []byte) (PageType, *PageRule) {
	for i := range c.Pages {
		if c.Pages[i].Path.Match(path) {
			return c.Pages[i].Type, &c.Pages[i]
		}
	}
	return PageOther, nil
}

// CartAddFor returns the add-to-cart rule matching a request, or nil.
func (c *Config) CartAddFor(method, path []byte) *CartAdd {
	for i := range c.Events.CartAdd {
		e := &c.Events.CartAdd[i]
		if string(method) == e.Method && e.Path.Match(path) {
			return e
		}
	}
	return nil
}
