// Package live keeps real-time counts per product over sliding windows:
// how many people viewed a product in the last hour and the last day, how
// many put it in their cart. These are the numbers social proof banners
// show, so they are counted, never estimated upwards: a window's count is
// the sum of the buckets it covers, and a product the counter had to forget
// starts again from zero.
//
// Who counts is the caller's choice (see Counter.Add); a counter also
// holds the event of a visitor not yet known to be a person until they
// come back (Counter.Hold, Counter.Identified). It knows nothing of HTTP or
// profiles. Safe for concurrent use.
//
// Files: live.go, the counter; pending.go, the events waiting for their
// visitor to come back; snapshot.go, Counter.WriteSnapshot and
// ReadSnapshot, the windows as a binary stream, and ErrSnapshot.
package live
