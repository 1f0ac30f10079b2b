import { describe, expect, it } from 'vitest';
import { createBackgroundPacer } from './background-pacer.js';

function setup(share = 0.1) {
  let clock = 1_000;
  let requests = 0;
  let busy = 0;
  const pacer = createBackgroundPacer({
    requestsSeen: () => requests,
    share,
    servingWindowMs: 100,
    longestRestMs: 50,
    initialUnitCostMs: 1,
    now: () => clock,
    loopBusyMs: () => busy,
  });
  return {
    pacer,
    advance: (ms: number) => (clock += ms),
    request: () => requests++,
    now: () => clock,
    /** The loop was busy `ms` more. */
    work: (ms: number) => (busy += ms),
  };
}

describe('createBackgroundPacer', () => {
  it('owes no rest while no request comes: background work runs flat out', () => {
    const { pacer, advance } = setup();
    expect(pacer.serving()).toBe(false);
    const startedAt = advance(0);
    advance(5);
    expect(pacer.rest(startedAt)).toBe(0);
    expect(pacer.serving()).toBe(false);
  });

  it('keeps the share of the loop while requests come: a piece of 1 ms at 10% rests 9 ms', () => {
    const { pacer, advance, request, now } = setup(0.1);
    pacer.serving();
    request();
    const startedAt = now();
    advance(1);
    expect(pacer.rest(startedAt)).toBeCloseTo(9, 9);
    expect(pacer.restUntil()).toBeCloseTo(now() + 9, 9);
  });

  it('rests no longer than the longest rest, whatever the piece took', () => {
    const { pacer, advance, request, now } = setup(0.1);
    pacer.serving();
    request();
    const startedAt = now();
    advance(30);
    expect(pacer.rest(startedAt)).toBe(50);
  });

  it('stops resting once no request came for the serving window', () => {
    const { pacer, advance, request, now } = setup();
    pacer.serving();
    request();
    expect(pacer.serving()).toBe(true);
    advance(99);
    expect(pacer.serving()).toBe(true);
    advance(1);
    expect(pacer.serving()).toBe(false);
    const startedAt = now();
    advance(2);
    expect(pacer.rest(startedAt)).toBe(0);
    request();
    expect(pacer.serving()).toBe(true);
  });

  it('never serves without a request counter', () => {
    const pacer = createBackgroundPacer({ share: 0.1, servingWindowMs: 100, longestRestMs: 50, initialUnitCostMs: 1 });
    expect(pacer.serving()).toBe(false);
    expect(pacer.rest(performance.now() - 10)).toBe(0);
  });

  it('also owes the loop time of the units of work a piece started, at the cost per unit it knows', () => {
    const { pacer, advance, request, now } = setup(0.1);
    pacer.serving();
    request();
    const startedAt = now();
    advance(0.5);
    // (0.5 ms of piece + 2 units of 1 ms) * 9
    expect(pacer.rest(startedAt, 2)).toBeCloseTo(22.5, 9);
  });

  it('learns what a unit costs from the loop time of units finished while no request came', () => {
    const { pacer, work, now, request } = setup(0.1);
    expect(pacer.unitCostMs()).toBe(1);
    // 32 units that kept the loop busy 3 ms each: the estimate moves halfway, to 2 ms.
    for (let i = 0; i < 32; i++) {
      work(3);
      pacer.finished(1);
    }
    expect(pacer.unitCostMs()).toBeCloseTo(2, 9);
    for (let i = 0; i < 32; i++) {
      work(3);
      pacer.finished(1);
    }
    expect(pacer.unitCostMs()).toBeCloseTo(2.5, 9);
    // ...and charges it: a piece of no time that started one unit rests 9 x 2.5 ms while serving.
    pacer.serving();
    request();
    expect(pacer.rest(now(), 1)).toBeCloseTo(22.5, 9);
  });

  it('learns nothing from units that shared the loop with requests', () => {
    const { pacer, work, request } = setup(0.1);
    for (let i = 0; i < 100; i++) {
      work(5);
      if (i % 10 === 0) request();
      pacer.finished(1);
    }
    expect(pacer.unitCostMs()).toBe(1);
  });
});
