// --model_config_file_poll_wait_seconds: the model config file (a local path or an s3:// object) is read again every
// N seconds; when its text changed, its model list is applied (models added are loaded, models removed are unloaded,
// as TF Serving's ServerCore::ReloadConfig). A file that is missing, unreadable (a store outage) or invalid changes
// nothing: the models already served keep serving and the error is logged; the next good text is applied.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseModelConfigList, type ModelConfig } from './config.js';
import { isS3Url } from '../storage/s3-url.js';

export interface ConfigPoll {
  stop(): void;
  /** Reads once now and applies a changed text (tests; the timer calls the same). */
  poll(): Promise<void>;
}

export function pollModelConfig(
  file: string,
  everySeconds: number,
  apply: (models: ModelConfig[]) => void,
  onError: (message: string) => void,
): ConfigPoll {
  const remote = isS3Url(file);
  const read = async (): Promise<string | undefined> => {
    if (remote) return (await import('./remote-config.js')).readModelConfigText(file);
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  };
  const parse = async (text: string): Promise<ModelConfig[]> =>
    remote ? (await import('./remote-config.js')).parseRemoteModelConfig(text, file) : parseModelConfigList(text, file, path.dirname(path.resolve(file)));
  let last: string | undefined;
  let running: Promise<void> | undefined;
  const once = async (): Promise<void> => {
    try {
      const text = await read();
      if (text === undefined || text === last) return;
      const models = await parse(text);
      last = text;
      apply(models);
    } catch (err) {
      onError((err as Error).message);
    }
  };
  // One read at a time: a slow store never stacks polls.
  const poll = (): Promise<void> => (running ??= once().finally(() => (running = undefined)));
  const first = read().then(
    (t) => void (last = t),
    () => undefined,
  );
  const timer = setInterval(() => void first.then(poll), everySeconds * 1000);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    poll: () => first.then(poll),
  };
}
