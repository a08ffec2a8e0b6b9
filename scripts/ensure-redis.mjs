// Makes sure `redis-server` is on this machine for the Redis fleet tests: when it is missing and we are
// root with apt, installs Debian's package (package lists start empty on a fresh machine, so
// `apt-get update` first); otherwise stops with a message saying how to get it.
import { spawnSync } from 'node:child_process';

/** Path of a working redis-server, installing it when missing and possible; exits 1 with a message otherwise. */
export function ensureRedis() {
  const found = () => spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (found()) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (isRoot && hasApt) {
    process.stderr.write(
      "redis-server is missing: installing Debian's redis-server (apt-get update && apt-get install)\n",
    );
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
    });
    const install =
      update.status === 0 &&
      spawnSync(
        'apt-get',
        ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', 'redis-server'],
        { stdio: ['ignore', 'ignore', 'inherit'], env },
      ).status === 0;
    // The package starts a system service; the tests start their own servers, so stop it where we can.
    if (install) spawnSync('sh', ['-c', 'service redis-server stop || true'], { stdio: 'ignore' });
    if (found()) return;
  }
  process.stdout.write('\n0 passed, 1 failed\n');
  process.stderr.write(
    'redis-server is needed by the Redis fleet tests and could not be installed.\n' +
      'Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis), then run npm test again.\n',
  );
  process.exit(1);
}

if (import.meta.url === `file://${process.argv[1]}`) ensureRedis();
