/**
 * Preloaded into the chaos soak's signaling processes (`NODE_OPTIONS='--expose-gc --import <this file>'`),
 * so the soak can read their memory without a debug endpoint in the server: on SIGUSR2 it runs a GC and
 * prints one line `roommesh-memory {"rssBytes":…,"heapUsedBytes":…}` to stderr. It also ends the process
 * when the soak that started it is gone (its parent changed), so a soak that dies leaves no server behind.
 */
const parent = process.ppid;

process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  process.stderr.write(`roommesh-memory ${JSON.stringify({ rssBytes: m.rss, heapUsedBytes: m.heapUsed })}\n`);
});

setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, 1000).unref();

export {};
