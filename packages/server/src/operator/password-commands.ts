import type { Command } from 'commander';
import { DomainError, PepperRing, issuePasswordReset, normalizeEmail, prefixedIds, systemClock, type Store } from '@keyward/core';
import type { Config } from '../config.js';

interface Tools {
  existingStoreConfig(): Promise<Config>;
  withStore<T>(cfg: Config, fn: (store: Store) => Promise<T>): Promise<T>;
}

/** The console page that takes a reset token (packages/console). */
export const RESET_PASSWORD_PATH = '/reset-password';

/**
 * `keyward admin reset-password --email <email> [--json]`: Keyward sends no email, so the operator
 * issues a one-time link on the store and hands it to the person. The link holds the token; the store
 * keeps only its digest. It points at the console on the public URL, as the setup link does.
 */
export function registerPasswordCommands(admin: Command, tools: Tools): void {
  admin
    .command('reset-password')
    .description("Issue a one-time link (valid 1 hour) with which a person sets a new password; using it ends every session of theirs. Earlier links of theirs stop working.")
    .requiredOption('--email <email>', "the person's email (any case)")
    .option('--json', 'print one JSON document: {resetUrl, token, expiresAt}')
    .addHelpText('after', '\nExample:\n  $ keyward admin reset-password --email ada@acme.test --json\n')
    .action(async (options: { email: string; json?: boolean }) => {
      const cfg = await tools.existingStoreConfig();
      await tools.withStore(cfg, async (store) => {
        let issued;
        try {
          issued = await issuePasswordReset({ store, clock: systemClock, ids: prefixedIds, peppers: new PepperRing(cfg.peppers) }, options.email);
        } catch (err) {
          if (err instanceof DomainError && err.code === 'user_not_found') {
            const message = `${err.message} Check the spelling; people join through an invitation or keyward admin create-org.`;
            if (options.json) process.stdout.write(`${JSON.stringify({ error: { code: err.code, message } })}\n`);
            process.stderr.write(`keyward: ${message}\n`);
            process.exitCode = 4;
            return;
          }
          throw err;
        }
        const resetUrl = `${cfg.publicUrl}${RESET_PASSWORD_PATH}?token=${issued.token}`;
        const expiresAt = issued.expiresAt.toISOString();
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ resetUrl, token: issued.token, expiresAt })}\n`);
          return;
        }
        process.stdout.write(
          `Password reset link for ${normalizeEmail(options.email)} (works once, until ${expiresAt}):\n  ${resetUrl}\n` +
            'Hand it to them over a channel you trust. Setting a password with it ends every session of theirs.\n',
        );
      });
    });
}
