// The daemons of the local stack, in start order. A service whose dist/main.js is not built yet
// is left out, so the stack grows as services land. Ports are Tungsten Fabric's where it had one.
//
// Each entry: name; main (the built entry point); env({ stateDir, host }) — the options the stack
// sets (anything else passes through from the caller's environment, so every WEFT_* option of a
// service can be overridden); readyUrl(env) — where readiness is asked; describe(env) — where
// it listens, for the start banner; needsRoot — why it cannot start without root, if it needs it.

export const stackServices = [];
