/** createSignalingServer's options, as resolveOptions checks them before anything starts. */
import { expect } from 'chai';
import { ConfigError, DEFAULT_SERVER_OPTIONS, resolveOptions } from '../../signaling/options.js';

/** The ConfigError resolveOptions throws for `options`. */
function refusal(options: Record<string, unknown>): ConfigError {
  try {
    resolveOptions(options);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

describe('signaling server options', () => {
  it('an unknown name is refused, naming it, rather than ignored with its default in force', () => {
    const typo = refusal({ maxParticipantsPerRom: 10 });
    expect([typo.option, typo.message]).to.deep.equal([
      'maxParticipantsPerRom',
      'unknown option "maxParticipantsPerRom"',
    ]);
    // A flag's negation, written as an option, says which option it is.
    expect(refusal({ noRelay: true }).message).to.equal('unknown option "noRelay" (--no-relay is `relay: false` here)');
    expect(refusal({ noMetrics: true }).message).to.match(/`metrics: false`/);
    expect(refusal({ noStatic: true }).message).to.match(/`staticDir: false`/);
  });

  it('every option name is taken: those with a default, and those without one', () => {
    // The JWT claims' defaults are for auth jwt (given without it, they are refused: below).
    const { jwtAudience, jwtClockToleranceMs, ...defaults } = DEFAULT_SERVER_OPTIONS;
    expect(() => resolveOptions(defaults as never)).to.not.throw();
    expect(() =>
      resolveOptions({
        ...defaults,
        auth: 'jwt',
        jwtSecret: 's'.repeat(32),
        jwtAudience,
        jwtClockToleranceMs,
      } as never),
    ).to.not.throw();
    const noDefault = { resumeSecret: 'r'.repeat(40), logger: undefined, jwtIssuer: undefined, turnSecret: undefined };
    expect(() => resolveOptions(noDefault as never)).to.not.throw();
  });

  it('a JWT setting without auth jwt is refused, the audience and clock tolerance too', () => {
    for (const key of ['jwtAudience', 'jwtClockToleranceMs', 'jwtIssuer']) {
      const err = refusal({ [key]: key === 'jwtClockToleranceMs' ? 1000 : 'x' });
      expect(err.option, key).to.equal(key);
      expect(err.message).to.match(/is for auth jwt, and auth is none/);
    }
    expect(() => resolveOptions({ auth: 'jwt', jwtSecret: 's'.repeat(32), jwtAudience: 'app' })).to.not.throw();
  });
});

describe('signaling server options: the relay budget', () => {
  it('refuses a process-wide relay budget smaller than one relayed frame, which would refuse every full frame', () => {
    const r = refusal({ relayBudgetBytesPerSecond: 32 * 1024 });
    expect(r.option).to.equal('relayBudgetBytesPerSecond');
    expect(r.message).to.match(/must be 0 \(no budget\) or at least the largest relayed frame and its cost \(65024\)/);
    expect(refusal({ relayBudgetBytesPerSecond: 64512 }).option).to.equal('relayBudgetBytesPerSecond');
    expect(() => resolveOptions({ relayBudgetBytesPerSecond: 65024 })).to.not.throw();
    expect(() => resolveOptions({ relayBudgetBytesPerSecond: 0 })).to.not.throw();
    expect(() => resolveOptions({ relayBudgetBytesPerSecond: 4608, maxRelayFrameBytes: 4096 })).to.not.throw();
    // The per-connection burst likewise.
    expect(refusal({ relayBurstBytes: 64512 }).message).to.match(/largest relayed frame and its cost \(65024\)/);
  });
});
