export * from './common.js';
export * from './errors.js';
export * from './api-keys.js';
export * from './auth.js';
export * from './organization.js';
export * from './usage.js';
export * from './verify.js';
