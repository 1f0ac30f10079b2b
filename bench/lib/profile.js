// What a CPU profile of a server says, in a few lines: the functions with the most self time (time
// spent in the function itself, not in what it calls), the garbage collector's share and where the
// rest went, from a `.cpuprofile` written by bench/lib/profile-hook.js.

import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { root } from './processes.js';

/** A short place for a profile node: package and file for dependencies, path in the repository for ours. */
function where(url, line) {
  if (!url) return '';
  let path = url;
  if (url.startsWith('file://')) {
    try {
      path = fileURLToPath(url);
    } catch {
      // keep the URL
    }
  }
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(path);
  if (inModules) path = `${inModules[1]}: ${inModules[2]}`;
  else if (path.startsWith('/')) path = relative(root, path);
  return `${path}:${line + 1}`;
}

/**
 * `{ sampledMs, busyMs, gcShare, top: [{ name, where, share }] }` of a profile: shares are of the
 * busy time (every sample but "(idle)"), `top` the `count` functions with the most self time,
 * grouped by name and place.
 */
export function summarizeProfile(profile, count = 5) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's time is the gap to the next one.
    const us = deltas[i + 1] ?? 0;
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, us));
  }
  const groups = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)?.callFrame ?? {};
    const name = frame.functionName || '(anonymous)';
    total += us;
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    const key = `${name}\u0000${frame.url}\u0000${frame.lineNumber}`;
    const group = groups.get(key) ?? { name, where: where(frame.url, frame.lineNumber ?? 0), us: 0 };
    group.us += us;
    groups.set(key, group);
  }
  const busy = total - idle;
  const share = (us) => (busy > 0 ? us / busy : 0);
  const gc = [...groups.values()].filter((g) => g.name === '(garbage collector)').reduce((s, g) => s + g.us, 0);
  const top = [...groups.values()].sort((a, b) => b.us - a.us).slice(0, count).map((g) => ({ name: g.name, where: g.where, share: share(g.us) }));
  return { sampledMs: Math.round(total / 1000), busyMs: Math.round(busy / 1000), gcShare: share(gc), top };
}

export function readProfile(file) {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}

/** One line for a report: "GC 12%; top self time: name (place) 9%, ...". */
export function describeProfile(summary) {
  if (!summary) return 'no profile';
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  const top = summary.top.map((f) => `\`${f.name}\`${f.where ? ` (${f.where})` : ''} ${pct(f.share)}`).join(', ');
  return `${summary.busyMs} ms busy of ${summary.sampledMs} ms sampled; garbage collection ${pct(summary.gcShare)}; most self time: ${top}`;
}
