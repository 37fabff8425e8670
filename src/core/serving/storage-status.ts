// Model status while a model's object storage fails. TF Serving shows nothing of a failing source in GetModelStatus;
// a store outage keeps the loaded version serving (source.ts), so an operator asking "is this model fine?" would see
// AVAILABLE/OK and no hint that no new version can arrive. This lookup adds the storage error to what status says,
// without changing any state or code a client or probe matches on:
//  - an AVAILABLE version keeps state AVAILABLE and error_code OK, its error_message says the storage fails;
//  - a model with no version yet answers NOT_FOUND as before, the message naming the storage error.
// The message goes through the envelope's path redaction like any other (an s3:// base path becomes <model M>).
import { RequestError } from '../errors.js';
import type { ServableLookup, VersionSelector, VersionStatus } from './types.js';

export function withStorageErrors(lookup: ServableLookup, storageErrorOf: (model: string) => string | undefined): ServableLookup {
  return {
    acquire: (name, selector) => lookup.acquire(name, selector),
    status(name: string, selector?: VersionSelector): VersionStatus[] {
      let statuses: VersionStatus[];
      try {
        statuses = lookup.status(name, selector);
      } catch (err) {
        const storage = storageErrorOf(name);
        if (storage && err instanceof RequestError && err.code === 'NOT_FOUND') throw new RequestError('NOT_FOUND', `${err.message} (model storage: ${storage})`);
        throw err;
      }
      const storage = storageErrorOf(name);
      if (!storage) return statuses;
      return statuses.map((s) => (s.state === 'AVAILABLE' && !s.errorMessage ? { ...s, errorMessage: `still serving; model storage: ${storage}` } : s));
    },
  };
}
