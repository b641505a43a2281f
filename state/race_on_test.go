//go:build race

package state

// raceEnabled: the race detector allocates on its own, so allocation bounds
// do not hold under it.
const raceEnabled = true
