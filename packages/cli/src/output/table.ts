/** A column of a text table. Lower `priority` columns are dropped first when the terminal is narrow. */
export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
  readonly priority: number;
  /** May be cut with an ellipsis to fit (names, scopes). */
  readonly flexible?: boolean;
  readonly minWidth?: number;
}

const gap = 2;

/**
 * An aligned table that fits `width`: it drops the least important columns, then shortens the
 * flexible ones, and never wraps a row (a wrapped table is unreadable and ungreppable).
 */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], width: number, bold: (s: string) => string = (s) => s): string {
  const cells = rows.map((row) => columns.map((c) => oneLine(c.value(row))));
  let widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => length(r[i]!))));
  let shown = columns.map((_, i) => i);
  const total = () => shown.reduce((sum, i) => sum + widths[i]!, 0) + gap * (shown.length - 1);

  const flexibleFloor = (i: number) => Math.max(columns[i]!.header.length, columns[i]!.minWidth ?? 12);
  const shrinkable = () => shown.filter((i) => columns[i]!.flexible).reduce((sum, i) => sum + Math.max(0, widths[i]! - flexibleFloor(i)), 0);
  while (total() - shrinkable() > width && shown.length > 1) {
    const drop = shown.reduce((lowest, i) => (columns[i]!.priority < columns[lowest]!.priority ? i : lowest), shown[0]!);
    shown = shown.filter((i) => i !== drop);
  }
  // Shorten the widest flexible column a character at a time, so the cut is shared fairly.
  widths = [...widths];
  for (let excess = total() - width; excess > 0; excess--) {
    const candidates = shown.filter((i) => columns[i]!.flexible && widths[i]! > flexibleFloor(i));
    if (candidates.length === 0) break;
    const widest = candidates.reduce((a, b) => (widths[b]! > widths[a]! ? b : a));
    widths[widest] = widths[widest]! - 1;
  }
  const render = (values: readonly string[], header: boolean) =>
    shown
      .map((i, position) => {
        const text = fit(values[i]!, widths[i]!);
        const padded = position === shown.length - 1 ? text : text + ' '.repeat(widths[i]! - length(text));
        return header ? bold(padded) : padded;
      })
      .join(' '.repeat(gap))
      .trimEnd();
  return [render(columns.map((c) => c.header), true), ...cells.map((r) => render(r, false))].join('\n');
}

function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ');
}

function length(text: string): number {
  return [...text].length;
}

function fit(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}
