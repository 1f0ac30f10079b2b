export { buildApp, type BuildAppOptions } from './app.js';
export { compose, type Composed, type ComposeOptions } from './compose.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export type { Services } from './services.js';
export { createLocalCacheBus } from '@keyward/core';
export { registerOperatorCommands, runOperator } from './operator/index.js';
export { loggerOptions, redactUrl } from './logging.js';
