package profile

import "shopedge/proxy/catalog"

// AppendRecent appends to dst the viewed products, latest first: Recent
// into a caller's buffer.
func (d *Data) AppendRecent(dst []catalog.ID) []catalog.ID {
	return append(dst, d.recent[:d.nRecent]...)
}

// AppendPurchased appends to dst the products bought, newest first:
// Purchased into a caller's buffer.
func (d *Data) AppendPurchased(dst []catalog.ID) []catalog.ID {
	return append(dst, d.purchased[:d.nPurch]...)
}

// AppendCart appends to dst the cart's lines, oldest first: Cart into a
// caller's buffer.
func (d *Data) AppendCart(dst []CartLine) []CartLine {
	for i := range int(d.nCart) {
		dst = append(dst, CartLine{Product: d.cart[i], Qty: d.cartQty[i]})
	}
	return dst
}
