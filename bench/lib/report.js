// Formatting for the report (docs/benchmarks.md or bench/results/latest.md): numbers, tables, the
// HTTP rows' columns, and the machine the run happened on.

import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { root } from './processes.js';

export const int = (n) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'));
/** Milliseconds with µs resolution (wrk's percentiles are whole µs). */
export const ms = (n) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(3));
export const ratio = (a, b) => (a && b ? a / b : null);
export const fixed = (n, digits = 2) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits));
export const pct = (r) => (r === null || r === undefined || Number.isNaN(r) ? 'n/a' : `${Math.round(r * 100)}%`);
export const verdict = (ok) => (ok === null || ok === undefined ? 'n/a' : ok ? '**PASS**' : '**MISS**');

export function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export const HTTP_HEADERS = ['case', 'conn.', 'req/s (median)', 'p50 ms', 'p99 ms', 'CPU server / wrk', 'server µs CPU per req.', 'of node:http hello', 'runs (req/s)'];

/** A row of an HTTP table; `hello` is the node:http hello-world row of the same run. */
export function httpRow(row, hello) {
  return [
    row.label,
    row.connections,
    int(row.requestsPerSecond),
    ms(row.p50Ms),
    ms(row.p99Ms),
    `${row.serverCpu}% / ${row.loaderCpu ?? 'n/a'}%`,
    fixed(row.serverMicrosPerRequest, 1),
    hello ? pct(row.requestsPerSecond / hello.requestsPerSecond) : 'n/a',
    row.runs.map(int).join(', ') + (row.errors ? ` (${int(row.errors)} connection errors or timeouts)` : ''),
  ];
}

/** The profile lines of HTTP rows: where each server spent its time in one extra profiled run. */
export function profileLines(rows) {
  const lines = [];
  for (const row of rows) {
    for (const profile of row?.profiles ?? []) lines.push(`- ${row.label} @${row.connections}, ${profile.label}: ${profile.text}.`);
  }
  return lines;
}

export function version(name) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

export function describeMachine() {
  let model = cpus()[0]?.model ?? 'unknown';
  let mhz = cpus()[0]?.speed ?? null;
  let flags = '';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    model = /model name\s*:\s*(.+)/.exec(info)?.[1] ?? model;
    mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(info)?.[1] ?? mhz);
    flags = /flags\s*:\s*(.+)/.exec(info)?.[1] ?? '';
  } catch {
    // not Linux
  }
  const hypervisor = flags.includes('hypervisor') ? 'virtual machine' : 'no hypervisor flag';
  let os = `${type()} ${release()}`;
  try {
    os = /PRETTY_NAME="(.+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] + ` (kernel ${release()})`;
  } catch {
    // keep the kernel name
  }
  return { model, mhz, cores: cpus().length, memoryGb: Math.round(totalmem() / 1e9), os, hypervisor };
}

export function stealSnapshot() {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const numbers = fields.map(Number);
    return { steal: numbers[7] ?? 0, total: numbers.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}
