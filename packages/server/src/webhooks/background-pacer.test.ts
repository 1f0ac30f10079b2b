import { describe, expect, it } from 'vitest';
import { createBackgroundPacer } from './background-pacer.js';

function setup(share = 0.1) {
  let clock = 1_000;
  let requests = 0;
  const pacer = createBackgroundPacer({ requestsSeen: () => requests, share, servingWindowMs: 100, longestRestMs: 50, now: () => clock });
  return {
    pacer,
    advance: (ms: number) => (clock += ms),
    request: () => requests++,
    now: () => clock,
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
    const pacer = createBackgroundPacer({ share: 0.1, servingWindowMs: 100, longestRestMs: 50 });
    expect(pacer.serving()).toBe(false);
    expect(pacer.rest(performance.now() - 10)).toBe(0);
  });
});
