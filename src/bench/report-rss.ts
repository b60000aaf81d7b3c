/**
 * Preloaded with `node --import` where /usr/bin/time is missing: reports the process's peak
 * RSS (KiB, like GNU time's %M) on stderr as it exits.
 */
process.on('exit', () => {
  process.stderr.write(`IDSYNC_BENCH_MAXRSS_KB ${process.resourceUsage().maxRSS}\n`);
});
