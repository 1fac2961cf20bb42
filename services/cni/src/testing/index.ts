export {
  type CniCall,
  type CniOutcome,
  callPlugin,
  createNetns,
  inNetns,
  netnsUnavailable,
  weftCniPath,
} from './runtime.js';
