// What remote clients may learn about the server's disk: nothing. Load errors and run errors often name files
// ("/srv/models/m/1/variables/variables.index: bad CRC"), which is right in the server's log but tells a remote
// caller the host's directory layout. `redactingLookup` wraps the Manager so every message that leaves through
// REST or gRPC (status error_message, acquire and run errors) has absolute paths rewritten: a model's base path
// becomes `<model M>`, any other absolute path its last component. `--debug` serves the raw messages.
import { RequestError } from '../errors.js';
import type { ServableHandle, ServableLookup, VersionSelector, VersionStatus } from './types.js';

// An absolute POSIX path (or file: URL) starting at a word boundary: "/a/b", "(/a/b)", "'/a/b'". Request paths like
// "/v1/models/m:predict" never reach this (they come from the routes, not the lookup).
const ABSOLUTE = /(?<![\w.:/-])(?:file:\/\/)?\/(?:[^\s'"`()[\]{},;]+\/)*([^\s'"`()[\]{},;/]*)/g;

export function redactPaths(message: string, basePaths: ReadonlyMap<string, string>): string {
  if (!message.includes('/')) return message;
  let out = message;
  for (const [base, model] of basePaths) out = out.split(base).join(`<model ${model}>`);
  return out.replace(ABSOLUTE, (whole, last: string) => (whole.length > 1 ? `…/${last}` : whole));
}

function redactError(err: unknown, basePaths: ReadonlyMap<string, string>): unknown {
  if (err instanceof RequestError) {
    const msg = redactPaths(err.message, basePaths);
    return msg === err.message ? err : new RequestError(err.code, msg);
  }
  if (err instanceof Error) return new Error(redactPaths(err.message, basePaths));
  return err;
}

/**
 * `lookup` with absolute paths removed from what it tells clients. `basePaths()` maps each model's base directory to
 * its name (read on every call: the model config may change).
 */
export function redactingLookup(lookup: ServableLookup, basePaths: () => ReadonlyMap<string, string>): ServableLookup {
  return {
    acquire(name: string, selector?: VersionSelector): ServableHandle {
      let h: ServableHandle;
      try {
        h = lookup.acquire(name, selector);
      } catch (err) {
        throw redactError(err, basePaths());
      }
      return {
        name: h.name,
        version: h.version,
        signatures: h.signatures,
        signatureDefs: h.signatureDefs,
        run: (signature, inputs, options) => h.run(signature, inputs, options).catch((err: unknown) => Promise.reject(redactError(err, basePaths()))),
        release: () => h.release(),
      };
    },
    status(name: string, selector?: VersionSelector): VersionStatus[] {
      let statuses: VersionStatus[];
      try {
        statuses = lookup.status(name, selector);
      } catch (err) {
        throw redactError(err, basePaths());
      }
      const paths = basePaths();
      return statuses.map((s) => (s.errorMessage.includes('/') ? { ...s, errorMessage: redactPaths(s.errorMessage, paths) } : s));
    },
  };
}
