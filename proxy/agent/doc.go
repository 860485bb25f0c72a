// Package agent classifies visitors by their User-Agent: crawlers and tools
// that must see the shop's own page, and the device class, operating system
// and browser of people.
//
// Files: agent.go, the built-in crawler list, Classifier (IsBot) and
// Parse (device class, OS, browser).
package agent
