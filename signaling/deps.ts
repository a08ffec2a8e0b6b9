/**
 * The server's packages are optional peer dependencies of roommesh, so that a browser app installing
 * roommesh does not install them. This finds which are missing and names the `npm install` that adds
 * them, before anything imports them (a missing package otherwise fails with Node's bare
 * ERR_MODULE_NOT_FOUND, naming one package and not the command).
 */

/** Packages the signaling server imports (server.ts and what it loads). */
export const SERVER_PACKAGES: readonly string[] = Object.freeze([
  'socket.io',
  '@socket.io/redis-streams-adapter',
  'redis',
  'prom-client',
  'jose',
]);

/** Packages `roommesh-signal` adds: its logger. pino-pretty is optional (JSON lines without it). */
export const CLI_PACKAGES: readonly string[] = Object.freeze([...SERVER_PACKAGES, 'pino']);

/** The packages of `names` that do not resolve from this module. */
export function missingPackages(names: readonly string[]): string[] {
  return names.filter((name) => {
    try {
      import.meta.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
}

/** Thrown when a package the server needs is not installed; the message names the `npm install` command. */
export class MissingServerPackagesError extends Error {
  override name = 'MissingServerPackagesError';
  /** Always 'MissingDependency'. */
  readonly reason = 'MissingDependency';
  /** The packages to install. */
  readonly packages: readonly string[];
  /** The command that installs them. */
  readonly command: string;

  constructor(what: string, packages: readonly string[]) {
    const command = `npm install ${packages.join(' ')}`;
    super(
      `${what} needs ${packages.join(', ')}, not installed: they are optional peer dependencies of roommesh, ` +
        `which browser apps do not need. Run: ${command}`,
    );
    this.packages = packages;
    this.command = command;
  }
}

/** Throws {@link MissingServerPackagesError} naming `what` when any of `names` is missing. */
export function assertPackages(what: string, names: readonly string[]): void {
  const missing = missingPackages(names);
  if (missing.length > 0) throw new MissingServerPackagesError(what, missing);
}
