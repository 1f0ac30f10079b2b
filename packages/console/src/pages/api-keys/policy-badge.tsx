import type { ApiKey } from '@keyward/wire';
import { Link } from 'react-router';
import { Alert, Badge } from '../../components/ui';

/** Each policy rule a key can break, in words: what is wrong with the key and how to fix it. */
export const policyRuleWords: Record<string, { short: string; fix: string }> = {
  maxKeyLifetimeDays: { short: 'lives too long', fix: 'Its expiry is later than the maximum lifetime allows (or it never expires): edit it to an earlier date.' },
  requireExpiry: { short: 'never expires', fix: 'The policy requires every key to expire: give it an expiry.' },
  requireAllowedCidrsForServiceKeys: { short: 'no IP allowlist', fix: 'Service keys need allowed IP ranges: add them under Advanced.' },
  personalKeysAllowed: { short: 'personal keys not allowed', fix: 'The organization no longer allows personal keys: replace it with a service key and revoke it.' },
  defaultKeyLifetimeDays: { short: 'default lifetime', fix: 'The default lifetime applies only to new keys.' },
};

function words(violations: readonly string[]): string {
  return violations.map((v) => policyRuleWords[v]?.short ?? v).join(', ');
}

/**
 * "Breaks policy" beside a key that breaks the organization's current key policy. A new policy
 * changes no existing key, so such keys keep working: this is how people find them.
 */
export function PolicyBadge({ apiKey }: { apiKey: Pick<ApiKey, 'policyViolations'> }) {
  const violations = apiKey.policyViolations ?? [];
  if (violations.length === 0) return null;
  return (
    <Badge tone="warning" title={`Breaks the organization’s key policy: ${words(violations)}`}>
      Breaks policy
    </Badge>
  );
}

/** On a key's page: which rules it breaks, what to do, and where the policy is. */
export function PolicyViolationsAlert({ apiKey }: { apiKey: Pick<ApiKey, 'policyViolations' | 'status'> }) {
  const violations = apiKey.policyViolations ?? [];
  if (violations.length === 0 || apiKey.status === 'revoked') return null;
  return (
    <Alert tone="warning" title="This key breaks the organization’s key policy">
      <p>
        It keeps working: a policy changes no existing key. But it cannot be rolled while its expiry breaks the policy. See the{' '}
        <Link to="/settings/policy">key policy</Link>.
      </p>
      <ul>
        {violations.map((v) => (
          <li key={v}>{policyRuleWords[v]?.fix ?? v}</li>
        ))}
      </ul>
    </Alert>
  );
}

/** The reasons of a 422 policy_violation, listed together (some, like the key type, have no field of their own). */
export function PolicyRefusal({ reasons }: { reasons: readonly { path: string; message: string }[] }) {
  return (
    <Alert tone="danger" title="The organization’s key policy refuses this key">
      <ul>
        {reasons.map((r) => (
          <li key={`${r.path}:${r.message}`}>{r.message}</li>
        ))}
      </ul>
      <p>
        <Link to="/settings/policy">See the key policy</Link>
      </p>
    </Alert>
  );
}
