// TF Serving's checks of a Predict request against its signature (servables/tensorflow/predict_util.cc), shared by the
// REST and gRPC front ends: they run after the body is decoded and before the model runs.
import { RequestError } from '../errors.js';
import type { SignatureInfo } from '../engine/types.js';

const setString = (names: Iterable<string>) => [...new Set(names)].sort().join(',');

/** The signature a Predict names, or TF Serving's FAILED_PRECONDITION (RunPredict). '' means serving_default. */
export function predictSignature(signatures: Record<string, SignatureInfo>, name: string): SignatureInfo {
  const key = name || 'serving_default';
  const sig = signatures[key];
  if (!sig) throw new RequestError('FAILED_PRECONDITION', `Serving signature key "${key}" not found.`);
  return sig;
}

/**
 * VerifyRequestInputsSize + GetInputValues: the request's input aliases against the signature's. (A signature with
 * `defaults` may leave inputs out; SignatureInfo does not carry defaults, so none is assumed.)
 */
export function checkPredictInputs(signature: SignatureInfo, aliases: string[], hasDefaults = false): void {
  const wanted = Object.keys(signature.inputs);
  const sent = new Set(aliases);
  if (sent.size > wanted.length || (sent.size < wanted.length && !hasDefaults)) {
    const extra = [...sent].filter((a) => !(a in signature.inputs));
    const missing = wanted.filter((a) => !sent.has(a));
    throw new RequestError(
      'INVALID_ARGUMENT',
      `input size does not match signature: ${sent.size}!=${wanted.length} len({${setString(sent)}}) != len({${setString(wanted)}}). ` +
        `Sent extra: {${setString(extra)}}. Missing but required: {${setString(missing)}}.`,
    );
  }
  // TensorFlow's saved_model::GetInputValues (what current TF Serving runs after the size check): each signature input
  // must be in the request (no defaults are known here), then every request input must have been used.
  for (const alias of [...wanted].sort()) {
    if (!sent.has(alias)) {
      throw new RequestError(
        'INVALID_ARGUMENT',
        `Signature input alias: ${alias}(feed name: ${signature.inputs[alias]!.name}) not found in request and no default value provided. ` +
          `Inputs expected to be in the request {${setString(sent)}}, or default input alias set: `,
      );
    }
  }
  for (const alias of sent) {
    if (!(alias in signature.inputs)) {
      const used = [...sent].filter((a) => a in signature.inputs);
      throw new RequestError('INVALID_ARGUMENT', `Inputs contains invalid name. Used request inputs: ${setString(used)}, request input: ${setString(sent)}`);
    }
  }
}

/** PreProcessPrediction's output_filter checks; returns the aliases to fetch (all outputs when the filter is empty). */
export function checkOutputFilter(signature: SignatureInfo, filter: string[] | undefined): string[] {
  if (!filter || filter.length === 0) return Object.keys(signature.outputs);
  const seen = new Set<string>();
  for (const alias of filter) {
    if (!(alias in signature.outputs)) {
      throw new RequestError(
        'INVALID_ARGUMENT',
        `output tensor alias not found in signature: ${alias} Outputs expected to be in the set {${setString(Object.keys(signature.outputs))}}.`,
      );
    }
    if (seen.has(alias)) throw new RequestError('INVALID_ARGUMENT', `duplicate output tensor alias: ${alias}`);
    seen.add(alias);
  }
  return filter;
}
