// Runs a command inside a private network namespace whose only interface is loopback, so that no
// WebRTC packet of a test, benchmark or demo check leaves the machine. As root: unshare -n; otherwise
// unshare -rn where the kernel allows it; where neither works, runs the command directly with a warning.
import { spawn, spawnSync } from 'node:child_process';

function works(args) {
  const r = spawnSync('unshare', [...args, 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' });
  return r.status === 0;
}

/** The argv prefix that enters a loopback-only namespace, or undefined when none can be made. */
export function namespacePrefix() {
  if (process.env.ROOMMESH_IN_NETNS === '1') return [];
  for (const flags of [['-n'], ['-rn']]) {
    if (works(flags)) return ['unshare', ...flags, 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh'];
  }
  return undefined;
}

/** Runs `argv` in a loopback-only namespace; resolves with its exit code. */
export function runIsolated(argv, options = {}) {
  let prefix = namespacePrefix();
  if (prefix === undefined) {
    process.stderr.write(
      'warning: cannot create a private network namespace (unshare -n / -rn); running without one. ' +
        'WebRTC traffic stays on this host only because no STUN/TURN servers are configured.\n',
    );
    prefix = [];
  }
  const full = [...prefix, ...argv];
  return new Promise((resolve) => {
    const child = spawn(full[0], full.slice(1), {
      stdio: 'inherit',
      ...options,
      env: { ...process.env, ...options.env, ROOMMESH_IN_NETNS: '1' },
    });
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}
