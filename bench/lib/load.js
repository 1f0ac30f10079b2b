// A watch on a SQLite file that notices every commit, kept during the HTTP runs (bench/lib/wrk.js).

import Database from 'better-sqlite3';

/**
 * Polls `PRAGMA data_version` of a SQLite file from another connection every 50 ms: it changes when
 * any other connection commits. The count of polls that saw a change is a lower bound on the commits
 * and an upper bound on the 50-ms windows that had one; one write per request would change it at
 * every poll.
 */
export function watchCommits(file) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const version = db.prepare('pragma data_version').pluck();
  let last = version.get();
  let polls = 0;
  let changed = 0;
  const timer = setInterval(() => {
    const now = version.get();
    polls++;
    if (now !== last) changed++;
    last = now;
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      db.close();
      return { polls, changed };
    },
  };
}
