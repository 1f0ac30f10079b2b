/**
 * The usage chart's colours, apart from the chart itself: the chart brings recharts and loads lazily,
 * while the breakdown under it (loaded with the page) colours its bars the same way.
 */
export const VALID_COLOR = '#4f46e5';
export const REJECTED_COLOR = '#dc2626';
export const RATE_LIMITED_COLOR = '#f79009';
export const USAGE_EXCEEDED_COLOR = '#7a5af8';

/** The colour of a rejection code's share in the breakdown, or undefined for the common one. */
export function rejectionColor(code: string): string | undefined {
  if (code === 'RATE_LIMITED') return RATE_LIMITED_COLOR;
  if (code === 'USAGE_EXCEEDED') return USAGE_EXCEEDED_COLOR;
  return undefined;
}
