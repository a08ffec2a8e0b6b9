import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createSignalingServer, type SignalingServer } from '../../signaling/server.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('README', function () {
  this.timeout(30_000);
  let server: SignalingServer | undefined;
  const script = `${ROOT}dist/readme-quickstart.mjs`;
  after(async () => {
    await server?.close();
    rmSync(script, { force: true });
  });

  it('the quick start runs as written and its process exits by itself', async () => {
    const readme = readFileSync(`${ROOT}README.md`, 'utf8');
    const block = /<!-- quickstart[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'quick start block in README.md').to.be.a('string');
    // Inside the package, `import 'roommesh'` resolves to the package itself, as it does for a user.
    writeFileSync(script, block!);
    // The block names port 8080; the tests run in a private network namespace, so it is free.
    server = await createSignalingServer({ port: 8080, host: '127.0.0.1', staticDir: false });
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code, out).to.equal(0);
    expect(out).to.include("bob sees alice { role: 'agent' }");
    expect(out).to.include("bob says chat { text: 'hi' }");
    expect(out).to.include("bob says file { name: 'a.bin' }");
    expect(out).to.include('delivered to 1 failed 0');
  });
});
