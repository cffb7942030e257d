// Internals for the simulator's fault injection (its "teeth" tests patch these prototypes).
// Not a stable API: apps must not import this entry point.
export { RelayClient } from './relay/relay-client.js'
export { RelayState } from './relay/relay-state.js'
