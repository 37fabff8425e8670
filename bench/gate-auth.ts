// bench/gate-auth: what the request gate (src/core/serving/gate.ts) costs per REST request on the JWT path, in this
// process, no sockets: Gate.admitRest + release for
//   - no auth configured (the floor: the health/metrics checks and the concurrency count);
//   - a cached token repeated on a keep-alive connection (the connection remembers its last verified header);
//   - a cached token on a new connection every time (SHA-256 of the token, then the cache);
//   - a new token every time (the full RS256 signature check through jose; what the cache saves).
// Each header is a fresh string, as node:http hands them over. Rounds alternate the cases; prints the least time per
// request of each over the rounds (the machine is shared: neighbours only ever add time) and the ratios.
//
// Usage (after `npx tsc -p tsconfig.json`): node dist/bench/gate-auth.js [--requests N] [--rounds N]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import * as jose from 'jose';
import { Authenticator } from '../src/core/serving/auth.js';
import { Gate } from '../src/core/serving/gate.js';
import type { GateVerdict } from '../src/core/serving/rest/server.js';
import { arg } from './script-util.js';

async function main(): Promise<void> {
  const requests = Number(arg('requests', '50000'));
  const rounds = Number(arg('rounds', '5'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-bench-gate-'));
  try {
    const { publicKey, privateKey } = await jose.generateKeyPair('RS256');
    const jwks = path.join(dir, 'jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'k', alg: 'RS256' }] }));
    const sign = (sub: string) => new jose.SignJWT({ sub, models: ['m'] }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).setIssuer('bench').setAudience('tfsvc').setExpirationTime('1h').sign(privateKey);
    const token = await sign('bench');
    const fresh = await Promise.all(Array.from({ length: 200 }, (_, i) => sign(`user-${i}`)));
    const authed = new Gate({ auth: await Authenticator.create({ jwks, issuer: 'bench', audience: ['tfsvc'] }) });
    const open = new Gate({});
    const keepAlive = { remoteAddress: '127.0.0.1' };

    // Fresh header strings, as node:http gives (a repeated literal would compare by pointer).
    const header = (t: string) => ['Bearer', t].join(' ');
    type Case = { name: string; gate: Gate; socket: (i: number) => object; token: (i: number) => string; n: number };
    const cases: Case[] = [
      { name: 'no auth', gate: open, socket: () => keepAlive, token: () => token, n: requests },
      { name: 'cached token, keep-alive connection', gate: authed, socket: () => keepAlive, token: () => token, n: requests },
      { name: 'cached token, new connection each time', gate: authed, socket: () => ({ remoteAddress: '127.0.0.1' }), token: () => token, n: requests },
      // New Authenticators would refetch nothing (a file JWKS); a fresh one per round keeps these tokens uncached.
      { name: 'new token each time (RS256 verify)', gate: authed, socket: () => keepAlive, token: (i) => fresh[i % fresh.length]!, n: fresh.length },
    ];
    const best = new Map<string, number>();
    for (let r = 0; r < rounds; r++) {
      for (const c of cases) {
        const gate = c.name.startsWith('new token') ? new Gate({ auth: await Authenticator.create({ jwks, issuer: 'bench', audience: ['tfsvc'] }) }) : c.gate;
        const t0 = performance.now();
        for (let i = 0; i < c.n; i++) {
          const req = { socket: c.socket(i), headers: { authorization: header(c.token(i)) } } as unknown as http.IncomingMessage;
          let v: GateVerdict | Promise<GateVerdict> = gate.admitRest(req, 'POST', '/v1/models/m:predict');
          if (v instanceof Promise) v = await v;
          if (v.answer) throw new Error(`${c.name}: refused (${v.answer.status})`);
          v.release?.();
        }
        const us = ((performance.now() - t0) * 1000) / c.n;
        best.set(c.name, Math.min(best.get(c.name) ?? Infinity, us));
      }
    }
    console.log(`== Gate.admitRest per REST request, least of ${rounds} rounds (shared machine: figures are noisy, compare within this run)`);
    for (const c of cases) console.log(`  ${c.name.padEnd(40)} ${best.get(c.name)!.toFixed(2).padStart(8)} us`);
    const b = (name: string) => best.get(cases.find((c) => c.name.startsWith(name))!.name)!;
    console.log(`  keep-alive repeat / new connection: ${(b('cached token, keep') / b('cached token, new')).toFixed(2)}; new connection / full verify: ${(b('cached token, new') / b('new token')).toFixed(3)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
