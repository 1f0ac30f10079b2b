import { InvalidArgumentError, type Command } from 'commander';
import type { OrganizationPolicy, OrganizationPolicyResponse } from '@keyward/wire';
import { usageError } from '../cli-error.js';
import { connect, type CommonOptions } from '../context.js';
import type { Output } from '../output/output.js';
import { withCommon, withExamples } from './common.js';

const maxDays = 3650;

/** `30`, or `none` (also `off`, `null`) for no rule. Commander keeps the raw text when a parser answers null, so "none" stays a word here. */
function lifetime(value: string): number | 'none' {
  if (['none', 'off', 'null'].includes(value.toLowerCase())) return 'none';
  const days = Number(value.replace(/d$/i, ''));
  if (!Number.isInteger(days) || days < 1 || days > maxDays) throw new InvalidArgumentError(`Give a whole number of days from 1 to ${maxDays}, or none.`);
  return days;
}

const days = (value: number | 'none') => (value === 'none' ? null : value);
const plural = (days: number) => `${days} day${days === 1 ? '' : 's'}`;

/** The policy in plain words, one rule a line. */
export function describePolicy(policy: OrganizationPolicy): [string, string][] {
  return [
    ['Maximum key lifetime', policy.maxKeyLifetimeDays === null ? 'none' : `${plural(policy.maxKeyLifetimeDays)} (every key must expire within it)`],
    ['Default key lifetime', policy.defaultKeyLifetimeDays === null ? 'none' : `${plural(policy.defaultKeyLifetimeDays)} for keys created without an expiry`],
    ['Expiry required', policy.requireExpiry ? 'yes' : 'no'],
    ['Service keys need IP allowlist', policy.requireAllowedCidrsForServiceKeys ? 'yes' : 'no'],
    ['Personal keys', policy.personalKeysAllowed ? 'allowed' : 'not allowed'],
  ];
}

function print(output: Output, policy: OrganizationPolicy, title: string): void {
  const rows = describePolicy(policy);
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  output.line(output.style.bold(title));
  for (const [label, value] of rows) output.line(`  ${output.style.dim(label.padEnd(width))}${value}`);
}

type SetOptions = CommonOptions & {
  maxLifetime?: number | 'none';
  defaultLifetime?: number | 'none';
  requireExpiry?: boolean;
  requireServiceCidrs?: boolean;
  personalKeys?: boolean;
};

/** `keyward org policy get|set`: the organization's key policy (everyone reads it; owners change it). */
export function registerPolicyCommands(org: Command): void {
  const policy = withExamples(org.command('policy').description("the organization's key policy: key lifetimes, required expiry and allowlists, personal keys"), [
    'keyward org policy get',
    'keyward org policy set --max-lifetime 90 --default-lifetime 30 --require-expiry',
  ]);

  withExamples(withCommon(policy.command('get').alias('show').description('show the key policy (any member)')), ['keyward org policy get', 'keyward org policy get --json']).action(
    async (options: CommonOptions) => {
      const { client, output } = await connect(options);
      const answer = await client.get<OrganizationPolicyResponse>('/api/organization/policy');
      if (output.json) output.document(answer.policy);
      else print(output, answer.policy, 'Key policy');
    },
  );

  withExamples(
    withCommon(
      policy
        .command('set')
        .description('change the key policy (owners only); rules not named keep their value; existing keys are not changed')
        .option('--max-lifetime <days>', `no key may expire later than this many days ahead (1-${maxDays}, or none)`, lifetime)
        .option('--default-lifetime <days>', 'keys created without an expiry expire this many days later (or none)', lifetime)
        .option('--require-expiry', 'every key must have an expiry')
        .option('--no-require-expiry', 'keys may be created without an expiry')
        .option('--require-service-cidrs', 'service keys must have an IP allowlist (allowedCidrs)')
        .option('--no-require-service-cidrs', 'service keys may be used from any address')
        .option('--personal-keys', 'personal keys may be created')
        .option('--no-personal-keys', 'no personal keys may be created'),
    ),
    ['keyward org policy set --max-lifetime 90 --default-lifetime 30', 'keyward org policy set --require-service-cidrs --no-personal-keys', 'keyward org policy set --max-lifetime none'],
  ).action(async (options: SetOptions) => {
    const changes: Partial<OrganizationPolicy> = {
      ...(options.maxLifetime !== undefined ? { maxKeyLifetimeDays: days(options.maxLifetime) } : {}),
      ...(options.defaultLifetime !== undefined ? { defaultKeyLifetimeDays: days(options.defaultLifetime) } : {}),
      ...(options.requireExpiry !== undefined ? { requireExpiry: options.requireExpiry } : {}),
      ...(options.requireServiceCidrs !== undefined ? { requireAllowedCidrsForServiceKeys: options.requireServiceCidrs } : {}),
      ...(options.personalKeys !== undefined ? { personalKeysAllowed: options.personalKeys } : {}),
    };
    if (Object.keys(changes).length === 0) {
      throw usageError('Name at least one rule to change.', 'For example: keyward org policy set --max-lifetime 90 (see --help for every rule)');
    }
    const { client, output } = await connect(options);
    const current = (await client.get<OrganizationPolicyResponse>('/api/organization/policy')).policy;
    const answer = await client.request<OrganizationPolicyResponse>('PUT', '/api/organization/policy', { body: { ...current, ...changes } });
    if (output.json) return output.document(answer.policy);
    output.line(`${output.style.green('✓')} Key policy updated. Existing keys are unchanged; those that break it show it (keyward api-key list).`);
    print(output, answer.policy, 'Key policy');
  });
}
