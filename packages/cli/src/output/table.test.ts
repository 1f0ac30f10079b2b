import { describe, expect, it } from 'vitest';
import { renderTable, type Column } from './table.js';

interface Row {
  name: string;
  id: string;
  note: string;
}
const columns: Column<Row>[] = [
  { header: 'NAME', value: (r) => r.name, priority: 10, flexible: true, minWidth: 8 },
  { header: 'ID', value: (r) => r.id, priority: 9 },
  { header: 'NOTE', value: (r) => r.note, priority: 1, flexible: true, minWidth: 6 },
];
const rows: Row[] = [
  { name: 'Production automation', id: 'key_aaaaaaaaaaaa', note: 'nightly export to the warehouse' },
  { name: 'ci', id: 'key_bbbbbbbbbbbb', note: '-' },
];

describe('renderTable', () => {
  it('aligns every column under its header when the width allows', () => {
    const lines = renderTable(rows, columns, 200).split('\n');
    expect(lines[0]).toBe('NAME                   ID                NOTE');
    expect(lines[1]).toBe('Production automation  key_aaaaaaaaaaaa  nightly export to the warehouse');
    expect(lines[2]).toBe('ci                     key_bbbbbbbbbbbb  -');
  });

  it('shortens flexible columns with an ellipsis before dropping any, sharing the cut', () => {
    const lines = renderTable(rows, columns, 60).split('\n');
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(60);
    expect(lines[0]).toMatch(/^NAME\s+ID\s+NOTE$/);
    expect(lines[1]).toContain('…');
  });

  it('drops the least important column when shortening is not enough, and never wraps a row', () => {
    const lines = renderTable(rows, columns, 30).split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ID$/);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(30);
    expect(renderTable([{ name: 'a\nb', id: 'x', note: 'y' }], columns, 200).split('\n')).toHaveLength(2);
  });
});
