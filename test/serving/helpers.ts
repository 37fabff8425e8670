// Shared helpers for serving integration tests: model directories for the fake engine, HTTP calls, polling.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** URL of the fake engine module the pool's workers load instead of the real engine. */
export const FAKE_ENGINE = new URL('./fake-engine.js', import.meta.url).href;

export function tmpBase(prefix = 'tfsvc-serve-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes version `v` of a fake model (see fake-engine.ts) under `base`. */
export function writeVersion(base: string, v: number, spec: Record<string, unknown>): string {
  const dir = path.join(base, String(v));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'fake.json'), JSON.stringify(spec));
  return dir;
}

export interface Reply {
  status: number;
  text: string;
  json: any;
  headers: Headers;
}

export async function call(port: number, method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

/** Re-runs `poll` every 30 ms until `check` is true (bounded: fails after `ms`). */
export async function until(check: () => boolean | Promise<boolean>, poll: () => void, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    poll();
    await new Promise((r) => setTimeout(r, 30));
  }
}

/**
 * Sends only the head of a POST to `urlPath` announcing a `contentLength`-byte body, sends no body, and resolves with
 * the response head: proof that an answer (401, 429, ...) came before the body was read.
 */
export function headOnlyPost(port: number, urlPath: string, contentLength: number, headers: Record<string, string> = {}): Promise<string> {
  const net = import('node:net');
  return net.then(
    ({ connect }) =>
      new Promise<string>((resolve, reject) => {
        const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
        const sock = connect(port, '127.0.0.1', () => sock.write(`POST ${urlPath} HTTP/1.1\r\nHost: x\r\n${extra}Content-Length: ${contentLength}\r\n\r\n`));
        let got = '';
        sock.on('data', (d: Buffer) => {
          got += d.toString();
          if (got.includes('\r\n\r\n')) {
            sock.destroy();
            resolve(got);
          }
        });
        sock.on('error', reject);
      }),
  );
}
