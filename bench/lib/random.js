// xorshift32: which key to use next, cheap and reproducible on the load generator's core (never
// for anything secret). Each caller gets its own sequence from its seed.
export function xorshift32(seed) {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}
