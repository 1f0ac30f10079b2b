import { Argument, type Command } from 'commander';
import type { ChangeCreditsBody, ChangeCreditsResponse } from '@keyward/wire';
import { connect, type CommonOptions } from '../context.js';
import { parseCreditAmount } from './api-key-limits.js';
import { count } from './api-key-view.js';
import { withCommon, withExamples } from './common.js';

/** The CLI's words for the API's atomic credit operations. */
const operations = { set: 'set', add: 'increment', remove: 'decrement' } as const satisfies Record<string, ChangeCreditsBody['op']>;
type Operation = keyof typeof operations;

/** `keyward api-key credits ID set|add|remove N`: one atomic change of a key's remaining credits. */
export function registerCreditsCommand(keys: Command): void {
  withExamples(
    withCommon(
      keys
        .command('credits')
        .description("set, add to or take from a key's remaining credits (owners and admins); prints what is left")
        .argument('<id>', 'the key id')
        .addArgument(new Argument('<operation>', 'set, add or remove').choices(Object.keys(operations)))
        .argument('<amount>', 'a whole number from 0 to 1,000,000,000'),
    ),
    ['keyward api-key credits key_2kP9xQ add 5000', 'keyward api-key credits key_2kP9xQ set 0', 'keyward api-key credits key_2kP9xQ remove 100 --json'],
  ).action((id: string, operation: Operation, amount: string, options: CommonOptions) => changeCredits(id, operation, amount, options));
}

async function changeCredits(id: string, operation: Operation, amountText: string, options: CommonOptions): Promise<void> {
  const amount = parseCreditAmount(amountText, `credits ${operation}`);
  const { client, output } = await connect(options);
  const body: ChangeCreditsBody = { op: operations[operation], amount };
  const answer = await client.post<ChangeCreditsResponse>(`/api/api-keys/${encodeURIComponent(id)}/credits`, body);
  if (output.json) return output.document(answer);
  const done = { set: `Set the credits of ${id} to ${count(amount)}`, add: `Added ${count(amount)} credits to ${id}`, remove: `Took ${count(amount)} credits from ${id}` }[operation];
  output.line(`${output.style.green('✓')} ${done}: ${count(answer.remaining)} left.`);
}
