/** The largest cost one verification may spend: Keyward refuses more (422 `validation_failed`). */
const MAX_COST = 1_000_000;

/**
 * Why a request's cost would be refused by Keyward (it is not a whole number from 0 to 1,000,000), or
 * null when it is fine. Checked before asking, so a bad cost never depends on whether a verdict was cached.
 *
 * @example
 * costProblem(2.5); // "A request's cost must be a whole number from 0 to 1,000,000, not 2.5."
 */
export function costProblem(cost: number): string | null {
  return Number.isInteger(cost) && cost >= 0 && cost <= MAX_COST ? null : `A request's cost must be a whole number from 0 to 1,000,000, not ${String(cost)}.`;
}
