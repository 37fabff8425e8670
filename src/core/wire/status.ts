// TF Serving's status (absl::Status: a code and a message) as the JSON codecs build it, and TensorFlow's dtype names
// in its messages. Codecs throw Status inside and convert to RequestError at their API boundary, so that wrapped
// messages can embed the inner status the way TF Serving's do.
import type { ErrorCodeName } from '../errors.js';

/** A TF Serving status: code + message (what absl::Status carries), thrown as RequestError at the API boundary. */
export class Status extends Error {
  constructor(
    readonly code: ErrorCodeName,
    message: string,
  ) {
    super(message);
  }
  /** absl::Status::ToString(), which TF Serving embeds in wrapped messages. */
  toStatusString(): string {
    return `${this.code}: ${this.message}`;
  }
}

export const invalid = (message: string): Status => new Status('INVALID_ARGUMENT', message);

/** TensorFlow's DataTypeString: 'DT_FLOAT' -> 'float', 'DT_INT64' -> 'int64'. */
export function dataTypeString(dtype: string): string {
  return dtype.startsWith('DT_') ? dtype.slice(3).toLowerCase() : dtype.toLowerCase();
}
