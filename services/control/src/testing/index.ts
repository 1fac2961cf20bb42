// Test helpers other packages' tests and the benchmarks may use: a simulated agent that speaks
// the real Agent contract, an in-memory Config server, and VNC object fixtures.
export * from './fixtures.js';
export { MemoryConfigServer } from './memory-config-server.js';
export { ChannelState, type PortReport, SimulatedAgent, type SimulatedAgentOptions } from './simulated-agent.js';
