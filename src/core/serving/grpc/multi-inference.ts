// PredictionService/MultiInference: several classify and regress tasks over one set of tf.Examples, on one model
// version, after TF Serving's servables/tensorflow/multi_inference.cc: every task must name the same model, no
// signature twice, only classify/regress methods, one shared input tensor; then the examples are decoded once and
// each task's result is built like Classify's and Regress's. Each task's input tensor passes the request-vs-signature
// check (signature-check.ts, the server's --max_request_elements) before anything runs. TF Serving runs one session over the union of the
// tasks' outputs; tfsvc runs each task's signature on the same examples (same answers: the input tensor is shared).
// The handle (the first task's ModelSpec: name, version or label) is acquired and released by the caller.
import { RequestError } from '../../errors.js';
import type { SignatureInfo } from '../../engine/types.js';
import {
  checkClassifySignature,
  checkRegressSignature,
  classificationResult,
  examplesBytes,
  examplesFromInput,
  regressionResult,
} from '../../wire/example-json.js';
import { checkInputs, DEFAULT_LIMITS, type RequestLimits } from '../../wire/signature-check.js';
import type { HostTensor } from '../../engine/types.js';
import type { ServableHandle } from '../types.js';
import type { CancelSignal } from '../cancel.js';

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CLASSIFY = 'tensorflow/serving/classify';
const REGRESS = 'tensorflow/serving/regress';
const DEFAULT_SIGNATURE = 'serving_default';

const invalid = (message: string) => new RequestError('INVALID_ARGUMENT', message);

interface Task {
  method: typeof CLASSIFY | typeof REGRESS;
  signature: string;
  sig: SignatureInfo;
  /** The signature's input alias the examples are fed to. */
  alias: string;
  /** The ModelSpec's signature_name as sent ('' stays '' until the response names serving_default). */
  outputs: string[];
}

/** TF Serving's checks of the tasks against the model, in its order; the tasks to run. */
export function planTasks(request: Plain, h: Pick<ServableHandle, 'signatures'>): Task[] {
  const tasks: Plain[] = request.tasks ?? [];
  let modelName = '';
  let inputTensor = '';
  const seen = new Set<string>();
  const planned: Task[] = [];
  for (const task of tasks) {
    const name: string = task.modelSpec?.name ?? '';
    if (!name) throw invalid('Found ModelSpec with an empty model name.');
    if (!modelName) modelName = name;
    else if (modelName !== name) throw invalid('All ModelSpecs in a MultiInferenceRequest must access the same model name.');
    const signature: string = task.modelSpec?.signatureName || DEFAULT_SIGNATURE;
    if (seen.has(signature)) throw invalid(`Duplicate evaluation of signature: ${signature}`);
    seen.add(signature);
    // Own properties only: "constructor" names no signature.
    const sig: SignatureInfo | undefined = Object.prototype.hasOwnProperty.call(h.signatures, signature) ? h.signatures[signature] : undefined;
    if (!sig) throw invalid(`Requested signature not found in model graph: ${signature}`);
    const method: string = task.methodName ?? '';
    let inputAlias: string;
    let outputs: string[];
    if (method === CLASSIFY) {
      inputAlias = checkClassifySignature(sig);
      outputs = ['classes', 'scores'].filter((a) => a in sig.outputs);
    } else if (method === REGRESS) {
      inputAlias = checkRegressSignature(sig);
      outputs = ['outputs'];
    } else {
      throw new RequestError('UNIMPLEMENTED', `Unsupported signature method_name: ${method}`);
    }
    const tensor = sig.inputs[inputAlias]!.name;
    if (!inputTensor) inputTensor = tensor;
    else if (inputTensor !== tensor) throw invalid('Input tensor must be the same for all Signatures.');
    planned.push({ method, signature, sig, alias: inputAlias, outputs });
  }
  return planned;
}

/**
 * Runs a MultiInferenceRequest on `h`; the response's results are in task order. Every task's input is checked
 * against its signature and `limits` before any task runs.
 */
export async function runMultiInference(h: ServableHandle, request: Plain, signal: CancelSignal, limits: RequestLimits = DEFAULT_LIMITS): Promise<Plain> {
  const tasks = planTasks(request, h);
  const examples = examplesFromInput(request.input); // "Input is empty." when there are none
  const n = examples.length;
  const tensor = (data: Uint8Array[]): HostTensor => ({ dtype: 'DT_STRING', shape: [n], data });
  const requestBytes = examplesBytes(examples);
  for (const task of tasks) checkInputs(task.sig, { [task.alias]: tensor(examples) }, limits, requestBytes);
  const results = await Promise.all(
    tasks.map(async (task, i) => {
      // A run owns its inputs (their buffers may be transferred to a worker), so every task after the first gets copies.
      const inputs = { [task.alias]: tensor(i === 0 ? examples : examples.map((e) => e.slice())) };
      const outputs = await h.run(task.signature, inputs, { outputFilter: task.outputs, signal });
      const modelSpec = { name: h.name, signatureName: task.signature, version: { value: h.version } };
      if (task.method === REGRESS) return { modelSpec, regressionResult: regressionResult(outputs, n) };
      return { modelSpec, classificationResult: classificationMessage(classificationResult(outputs, n)) };
    }),
  );
  return { results };
}

/** A ClassificationResult as its proto message: proto3 leaves defaults off the wire (no label, a zero score), as TF Serving's C++ does. */
export function classificationMessage(result: ReturnType<typeof classificationResult>): Plain {
  return {
    classifications: result.classifications.map((c) => ({
      classes: c.classes.map((cl) => ({ ...(cl.label ? { label: cl.label } : {}), ...(cl.score !== 0 ? { score: cl.score } : {}) })),
    })),
  };
}
