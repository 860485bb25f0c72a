//go:build race

package page

// raceEnabled: under the race detector, sync.Pool drops items at random,
// so allocation counts vary from run to run.
const raceEnabled = true
