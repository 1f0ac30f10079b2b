/**
 * A wait for the next event-loop turn (after I/O already received, such as an invalidation on the
 * stream), shared by every caller that asks within the same turn: one `setImmediate`, not one each.
 */
export function sharedEventLoopTurn(): () => Promise<void> {
  let pending: Promise<void> | null = null;
  return () =>
    (pending ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        pending = null;
        resolve();
      }),
    ));
}
