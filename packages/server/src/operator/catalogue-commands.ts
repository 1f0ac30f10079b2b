import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { allPermissions, parseCatalogue, type PermissionCatalogue } from '@keyward/core';

/** The catalogue `keyward init` starts a generic API with: edit it to name your API's areas. */
export const starterCatalogue = {
  categories: [
    { name: 'orders', label: 'Orders', actions: ['read', 'write'], memberAccess: 'write', descriptions: { read: 'View orders', write: 'Create, update and cancel orders' } },
    { name: 'customers', label: 'Customers', actions: ['read', 'write'], memberAccess: 'write', descriptions: { read: 'View customers', write: 'Create and update customers' } },
    { name: 'billing', label: 'Billing', actions: ['read', 'write'], memberAccess: 'read', descriptions: { read: 'View invoices and payment methods', write: 'Change plans and payment methods' } },
    { name: 'reports', label: 'Reports', actions: ['read'], memberAccess: 'read', descriptions: { read: 'View reports' } },
  ],
};

export const STARTER_FILE = 'keyward.catalogue.json';

/**
 * Every problem of a catalogue file's content, not only the first, with the catalogue when there
 * are none.
 */
export function checkCatalogue(input: unknown): { catalogue: PermissionCatalogue | null; problems: string[] } {
  if (typeof input !== 'object' || input === null || !Array.isArray((input as { categories?: unknown }).categories)) {
    return { catalogue: null, problems: ['expected {"categories":[...]}'] };
  }
  const categories = (input as { categories: unknown[] }).categories;
  const problems: string[] = [];
  if (categories.length === 0) problems.push('categories is empty: a catalogue names at least one category');
  const seen = new Set<string>();
  categories.forEach((entry, index) => {
    try {
      parseCatalogue({ categories: [entry] });
    } catch (err) {
      problems.push((err as Error).message.replace(/^permission catalogue: /, '').replace('categories[0]', `categories[${index}]`));
    }
    const name = (entry as { name?: unknown } | null)?.name;
    if (typeof name === 'string') {
      if (seen.has(name)) problems.push(`categories[${index}].name "${name}" appears twice`);
      seen.add(name);
    }
  });
  return problems.length ? { catalogue: null, problems } : { catalogue: parseCatalogue(input), problems };
}

/** `keyward admin catalogue check <file>` and `keyward init`: neither needs a store. */
export function registerCatalogueCommands(program: Command, admin: Command): void {
  admin
    .command('catalogue')
    .description('The permission catalogue (KEYWARD_PERMISSION_CATALOGUE).')
    .command('check')
    .argument('<file>', 'a catalogue JSON file')
    .description('Validate a catalogue file and print its categories and permissions (exit 0), or the reasons it is refused (exit 2). Reads only the file.')
    .option('--json', 'print one JSON document: {"valid","categories","permissions"} or {"valid":false,"problems"}')
    .addHelpText('after', '\nExample:\n  $ keyward admin catalogue check keyward.catalogue.json\n')
    .action((file: string, options: { json?: boolean }) => {
      const path = resolve(file);
      let problems: string[];
      let catalogue: PermissionCatalogue | null = null;
      try {
        ({ catalogue, problems } = checkCatalogue(JSON.parse(readFileSync(path, 'utf8'))));
      } catch (err) {
        problems = [(err as NodeJS.ErrnoException).code === 'ENOENT' ? `no such file: ${path}` : `not JSON: ${(err as Error).message}`];
      }
      if (!catalogue) {
        if (options.json) process.stdout.write(`${JSON.stringify({ valid: false, file: path, problems })}\n`);
        else process.stderr.write(`keyward: ${path} is not a valid catalogue:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
        process.exitCode = 2;
        return;
      }
      const permissions = allPermissions(catalogue);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ valid: true, file: path, categories: catalogue.categories.map((c) => c.name), permissions })}\n`);
        return;
      }
      process.stdout.write(`${path}: a valid catalogue of ${catalogue.categories.length} categories.\n`);
      for (const category of catalogue.categories) {
        process.stdout.write(`  ${category.name.padEnd(16)} ${category.actions.map((a) => `${category.name}:${a}`).join(', ')}  (MEMBER: ${category.memberAccess})\n`);
      }
      process.stdout.write(`  plus organization:manage (OWNER and ADMIN only).\nStart Keyward with KEYWARD_PERMISSION_CATALOGUE=${path}\n`);
    });

  program
    .command('init')
    .description(`Write a starter permission catalogue for your API (${STARTER_FILE}) in this folder, and say how to use it.`)
    .option('--force', 'overwrite an existing file')
    .addHelpText('after', `\nExample:\n  $ npx keyward init && KEYWARD_PERMISSION_CATALOGUE=./${STARTER_FILE} npm start\n`)
    .action((options: { force?: boolean }) => {
      const path = resolve(STARTER_FILE);
      if (existsSync(path) && !options.force) {
        process.stderr.write(`keyward: ${path} exists already; edit it, or use --force to start over.\n`);
        process.exitCode = 1;
        return;
      }
      writeFileSync(path, `${JSON.stringify(starterCatalogue, null, 2)}\n`);
      const permissions = allPermissions(parseCatalogue(starterCatalogue));
      process.stdout.write(
        `Wrote ${path}: ${starterCatalogue.categories.map((c) => c.name).join(', ')} (${permissions.length} permissions, e.g. orders:read, orders:write).\n` +
          `Name your API's areas in it, check it with \`npx keyward admin catalogue check ${STARTER_FILE}\`, then start Keyward with it:\n` +
          `  KEYWARD_PERMISSION_CATALOGUE=${path} npm start\n`,
      );
    });
}
