// The public surface of @weft/weftctl for other packages' tests: the exit codes and the settings
// (flags, WEFT_CTL_* variables) weftctl declares.
export { EXIT } from './errors.js';
export { CONFIG_FILE, CONTEXT, ENVIRONMENT, SETTINGS } from './options.js';
