// How this example verifies keys, chosen by VERIFY_MODE:
//
//   remote (default)  POST /api/keys/verify on the Keyward server, with a local cache that the
//                     server's invalidation stream empties on every revoke, edit or role change.
//                     Needs KEYWARD_URL and a verifier credential (KEYWARD_VERIFIER_TOKEN).
//   embedded          Keyward's own verifier in this process, reading Keyward's database directly:
//                     no network hop. Needs KEYWARD_DATABASE_URL and KEYWARD_PEPPER (the server's);
//                     with KEYWARD_VERIFIER_TOKEN too, it follows the invalidation stream.
import { createRemoteVerifier } from '@keyward/sdk';

/**
 * The verifier for this process, from the environment.
 * @param {(err: Error) => void} onError stream and usage-flush problems (they retry by themselves)
 */
export async function verifierFromEnv(onError) {
  const mode = process.env.VERIFY_MODE ?? 'remote';
  const url = process.env.KEYWARD_URL ?? 'http://127.0.0.1:4000';
  const verifierToken = process.env.KEYWARD_VERIFIER_TOKEN;

  if (mode === 'remote') {
    if (!verifierToken) throw new Error('Set KEYWARD_VERIFIER_TOKEN (from: keyward admin create-verifier --name example --json).');
    const verifier = createRemoteVerifier({ url, verifierToken, onError });
    // Not required: without the stream every verification asks the server (fallbackTtlMs is 0).
    if (!(await verifier.ready(3_000))) onError(new Error(`the invalidation stream of ${url} is not up yet: verifying without a cache`));
    return verifier;
  }

  if (mode === 'embedded') {
    const databaseUrl = process.env.KEYWARD_DATABASE_URL;
    const pepper = process.env.KEYWARD_PEPPER;
    if (!databaseUrl || !pepper) throw new Error("Set KEYWARD_DATABASE_URL and KEYWARD_PEPPER to the Keyward server's values.");
    // Imported only here: it brings Keyward's core and store (and the database drivers) into this process.
    const { createEmbeddedVerifier } = await import('@keyward/sdk/embedded');
    const verifier = await createEmbeddedVerifier({
      databaseUrl,
      pepper,
      keyPrefix: process.env.KEYWARD_KEY_PREFIX,
      invalidations: verifierToken ? { url, verifierToken } : undefined,
      onError,
    });
    if (verifierToken && !(await verifier.ready(3_000))) onError(new Error(`the invalidation stream of ${url} is not up yet: reading through the database`));
    return verifier;
  }

  throw new Error(`VERIFY_MODE must be remote or embedded, not ${mode}.`);
}
