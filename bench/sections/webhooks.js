// Section (i): webhooks. What subscribing costs the API (creating and revoking keys with ten webhook
// endpoints subscribed to every event, against the same endpoints disabled, interleaved), and how
// fast the delivery worker empties a burst into a local receiver. Keyward's built server on a copy of
// the 10k-key database; the receiver is a bare node:http server in another process answering 204.

import { cpuSample, stopChild } from '../lib/processes.js';
import { fixed, int, ms, pct, table } from '../lib/report.js';
import { startKeyward, startScript } from '../lib/servers.js';

const ENDPOINTS = 10;
/** The latency bound the issue sets: with ten endpoints, create and revoke within 10% of none. */
const LATENCY_BOUND = 1.1;

/**
 * The receiver (bench/servers/webhook-receiver.js), in a process of its own on the load's core, as a
 * real receiver runs elsewhere: in this process its work would delay the very answers being timed.
 */
async function startReceiver() {
  const receiver = await startScript('bench/servers/webhook-receiver.js', [], { label: 'webhook receiver', core: 1 });
  const count = async () => (await fetch(`${receiver.url}/count`)).json();
  return { count, url: (path) => `${receiver.url}${path}`, close: () => stopChild(receiver.child) };
}

async function api(base, token, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const p99 = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
};

/** `count` keys created then revoked one at a time; the latency of each call in ms. */
async function createAndRevoke(base, token, count, label) {
  const create = [];
  const revoke = [];
  for (let i = 0; i < count; i++) {
    let started = performance.now();
    const { apiKey } = await api(base, token, 'POST', '/api/api-keys', { name: `${label}-${i}`, keyType: 'service' });
    create.push(performance.now() - started);
    started = performance.now();
    await api(base, token, 'DELETE', `/api/api-keys/${apiKey.id}`);
    revoke.push(performance.now() - started);
  }
  return { create, revoke };
}

export default {
  name: 'webhooks',
  databases: ['small'],

  async run(ctx) {
    const { settings, log } = ctx;
    const small = await ctx.database('small');
    const receiver = await startReceiver();
    const keyward = await startKeyward(small, 'keyward (webhooks)', { KEYWARD_WEBHOOK_ALLOW_PRIVATE: '1', KEYWARD_KEY_CREATIONS_PER_MINUTE: '0' });
    try {
      const token = small.adminToken;
      const hooks = [];
      for (let i = 0; i < ENDPOINTS; i++) {
        const { webhook } = await api(keyward.url, token, 'POST', '/api/webhooks', { url: receiver.url(`/hook/${i}`), events: ['*'] });
        hooks.push(webhook.id);
      }
      const setEnabled = async (enabled) => {
        for (const id of hooks) await api(keyward.url, token, 'PATCH', `/api/webhooks/${id}`, { enabled });
      };
      // Many short rounds rather than a few long ones: this machine's speed drifts over seconds, and
      // in ABBA order with short rounds the drift falls on both modes alike. An even number of rounds,
      // at least 24 (2,400 pairs per mode: single blocks of four rounds differ by ±5% here); `--rounds`
      // asks for more.
      const perRound = settings.quick ? 40 : 100;
      const rounds = settings.quick ? 1 : Math.max(24, 8 * settings.rounds + ((8 * settings.rounds) % 2));
      const none = { create: [], revoke: [], cpuMs: 0, pairs: 0, rounds: [] };
      const ten = { create: [], revoke: [], cpuMs: 0, pairs: 0, rounds: [] };
      const waitForAll = async (expected, limitMs) => {
        const deadline = performance.now() + limitMs;
        for (;;) {
          if ((await receiver.count()).total >= expected) return true;
          if (performance.now() >= deadline) return false;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      /** A round of pairs, and the server's CPU time from its start until every delivery it caused arrived. */
      const measureRound = async (into, label) => {
        const expected = (await receiver.count()).total + (into === ten ? 2 * perRound * ENDPOINTS : 0);
        const started = performance.now();
        const sample = cpuSample([keyward.pid]);
        const { create, revoke } = await createAndRevoke(keyward.url, token, perRound, label);
        if (!(await waitForAll(expected, 120_000))) log(`  only ${(await receiver.count()).total} of ${expected} deliveries arrived after ${label}`);
        into.cpuMs += (sample.end().serverCpu / 100) * (performance.now() - started);
        into.pairs += perRound;
        into.rounds.push({ createP50: median(create), revokeP50: median(revoke) });
        log(`  ${label}: create p50 ${median(create).toFixed(3)} ms, revoke p50 ${median(revoke).toFixed(3)} ms`);
        into.create.push(...create);
        into.revoke.push(...revoke);
      };
      log(`webhooks: create + revoke latency, ${perRound} pairs per round, ${rounds} interleaved round(s) without and with ${ENDPOINTS} endpoints`);
      // Warm-up in both modes (the delivery worker's code too), each followed by its deliveries.
      const warmPairs = settings.quick ? 20 : 300;
      for (const enabled of [false, true, false]) {
        await setEnabled(enabled);
        const expected = (await receiver.count()).total + (enabled ? 2 * warmPairs * ENDPOINTS : 0);
        await createAndRevoke(keyward.url, token, warmPairs, `warm-up-${enabled}`);
        await waitForAll(expected, 120_000);
      }
      // Rounds in ABBA order (none, ten, ten, none, ...): a server still getting faster favours neither.
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? [none, ten] : [ten, none];
        for (const into of order) {
          await setEnabled(into === ten);
          await measureRound(into, `${into === ten ? 'ten' : 'none'}-${round}`);
        }
      }
      const burstKeys = settings.quick ? 100 : 500;
      log(`webhooks: a burst of ${burstKeys} key creations, ${ENDPOINTS} endpoints each`);
      await setEnabled(true);
      const before = (await receiver.count()).total;
      const expected = before + burstKeys * ENDPOINTS;
      const started = Date.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < burstKeys) {
            const i = next++;
            await api(keyward.url, token, 'POST', '/api/api-keys', { name: `burst-${i}`, keyType: 'service' });
          }
        }),
      );
      const createdMs = Date.now() - started;
      const complete = await waitForAll(expected, 300_000);
      const { total, lastAt } = await receiver.count();
      const deliveredMs = lastAt - started;
      ctx.results.webhooks = {
        perRound,
        rounds,
        warmPairs,
        none: { createP50: median(none.create), createP99: p99(none.create), revokeP50: median(none.revoke), revokeP99: p99(none.revoke), cpuMsPerPair: none.cpuMs / none.pairs, rounds: none.rounds },
        ten: { createP50: median(ten.create), createP99: p99(ten.create), revokeP50: median(ten.revoke), revokeP99: p99(ten.revoke), cpuMsPerPair: ten.cpuMs / ten.pairs, rounds: ten.rounds },
        burst: { keys: burstKeys, deliveries: total - before, expected: burstKeys * ENDPOINTS, complete, createdMs, deliveredMs },
      };
    } finally {
      await stopChild(keyward.child);
      keyward.copy.remove();
      await receiver.close();
    }
  },

  render(ctx, report) {
    const r = ctx.results.webhooks;
    if (!r) return;
    report.push('## (i) Webhooks: what subscribing costs the API, and delivery');
    report.push('');
    report.push(
      `\`bench/sections/webhooks.js\`: Keyward's built server on a copy of the 10k-key database with ${ENDPOINTS} webhook endpoints subscribed to every event, pointing at a bare node:http receiver in a process of its own (on the load's core) that answers 204. Keys were created and revoked one at a time (${int(r.perRound)} pairs per round, ${r.rounds} round(s) per mode), alternately with the endpoints disabled (no event is written) and enabled (each change writes its event in its transaction; the delivery worker, in the same process, then writes its ${ENDPOINTS} deliveries and sends them, pacing itself while requests are being served); each round ends once every delivery it caused has arrived, and the server's CPU time over that span is divided by the round's pairs. Then a burst: ${int(r.burst.keys)} keys created by 8 concurrent clients, ${int(r.burst.expected)} deliveries to send.`,
    );
    report.push('');
    report.push(
      table(
        ['case', 'create p50 ms', 'create p99 ms', 'revoke p50 ms', 'revoke p99 ms', 'server CPU ms per pair'],
        [
          ['no endpoint enabled', ms(r.none.createP50), ms(r.none.createP99), ms(r.none.revokeP50), ms(r.none.revokeP99), ms(r.none.cpuMsPerPair)],
          [`${ENDPOINTS} endpoints, every event`, ms(r.ten.createP50), ms(r.ten.createP99), ms(r.ten.revokeP50), ms(r.ten.revokeP99), ms(r.ten.cpuMsPerPair)],
          ['ratio', pct(r.ten.createP50 / r.none.createP50), pct(r.ten.createP99 / r.none.createP99), pct(r.ten.revokeP50 / r.none.revokeP50), pct(r.ten.revokeP99 / r.none.revokeP99), pct(r.ten.cpuMsPerPair / r.none.cpuMsPerPair)],
        ],
      ),
    );
    report.push('');
    const perRound = (mode) => mode.rounds.map((x) => `${ms(x.createP50)} / ${ms(x.revokeP50)}`).join(', ');
    report.push(`Per round, in the order run (create p50 / revoke p50, ms): no endpoint enabled ${perRound(r.none)}; ${ENDPOINTS} endpoints ${perRound(r.ten)}. The rounds ran in ABBA order (none, ten, ten, none, ...) after ${int(r.warmPairs)} pairs of warm-up in each mode.`);
    // Each ABBA block (two rounds of each mode, side by side in time) gives a ratio of its own: how
    // far they spread shows how much of the ratio above is the machine's drift rather than webhooks.
    const blocks = [];
    for (let i = 0; i + 1 < r.none.rounds.length && i + 1 < r.ten.rounds.length; i += 2) {
      const ratio = (field) => (r.ten.rounds[i][field] + r.ten.rounds[i + 1][field]) / (r.none.rounds[i][field] + r.none.rounds[i + 1][field]);
      blocks.push({ create: ratio('createP50'), revoke: ratio('revokeP50') });
    }
    if (blocks.length > 1) {
      const spread = (field) => blocks.map((b) => fixed(b[field])).join(', ');
      report.push('');
      report.push(
        `Per ABBA block (ten / none, the mean of its two rounds' p50s): create ${spread('create')} (median ${fixed(median(blocks.map((b) => b.create)))}); revoke ${spread('revoke')} (median ${fixed(median(blocks.map((b) => b.revoke)))}).`,
      );
    }
    report.push('');
    const perSecond = r.burst.deliveries / (r.burst.deliveredMs / 1000);
    report.push(
      `Burst: the ${int(r.burst.keys)} creations took ${int(r.burst.createdMs)} ms; ${int(r.burst.deliveries)} of ${int(r.burst.expected)} deliveries had arrived ${int(r.burst.deliveredMs)} ms after the first request${r.burst.complete ? '' : ' (**incomplete**: the wait ended first)'}: **${int(perSecond)} deliveries/s** to a local receiver.`,
    );
    report.push('');
  },

  targets(ctx, report) {
    const r = ctx.results.webhooks;
    if (!r) return;
    const create = r.ten.createP50 / r.none.createP50;
    const revoke = r.ten.revokeP50 / r.none.revokeP50;
    report.target(`key create latency with ${ENDPOINTS} webhooks vs none (p50)`, `≤ ${fixed(LATENCY_BOUND)}×`, `${fixed(create)}×`, create <= LATENCY_BOUND);
    report.target(`key revoke latency with ${ENDPOINTS} webhooks vs none (p50)`, `≤ ${fixed(LATENCY_BOUND)}×`, `${fixed(revoke)}×`, revoke <= LATENCY_BOUND);
    report.target('webhook burst delivered completely', 'every delivery', `${int(r.burst.deliveries)} of ${int(r.burst.expected)}`, r.burst.complete);
  },
};
