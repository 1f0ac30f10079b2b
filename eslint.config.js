import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const driverImports = ['pg', 'better-sqlite3', 'ioredis', 'fastify', 'kysely', 'express', 'hono', 'zod'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', 'packages/console/dist/**', '.keyward/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Use the CSPRNG (node:crypto) for anything that matters.' }],
    },
  },
  {
    // core is the domain: no HTTP framework, database driver or Redis client (STYLE.md §1).
    files: ['packages/core/src/**/*.ts'],
    ignores: ['packages/core/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: driverImports.map((name) => ({ name, message: 'core has no I/O: use a port.' })), patterns: ['@keyward/*'] }],
    },
  },
  {
    // The SDK, the CLI and the console speak HTTP: they depend on wire, never on core or store.
    files: ['packages/sdk/src/**/*.ts', 'packages/cli/src/**/*.ts', 'packages/console/src/**/*.{ts,tsx}'],
    ignores: ['packages/sdk/src/embedded/**', 'packages/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@keyward/core', '@keyward/store', '@keyward/redis'], message: 'Clients depend on @keyward/wire only.' }] }],
    },
  },
  {
    // Tests read loosely typed JSON answers.
    files: ['tests/**/*.ts', 'packages/*/src/**/*.test.ts', 'packages/*/test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['packages/console/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
