// The warmup check: TF Serving replays assets.extra/tf_serving_warmup_requests before a version goes AVAILABLE and
// fails the whole load when a record is corrupt, unparsable, over the 1000-record limit, or a request errors. validate
// does the same with the engine so a bad warmup file is caught before it ships, not when a server refuses the model.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { EngineModel } from '../engine/model.js';
import { decodeWarmupRecord, readWarmupRecords, WARMUP_FILE } from '../savedmodel/warmup-file.js';
import type { CheckResult } from './report.js';

/** undefined when the version has no warmup file. */
/** `signatureFilter`: the one signature validate loaded (--signature), when it loaded only that one. */
export async function warmupCheck(dir: string, model: EngineModel, signatureFilter?: string): Promise<CheckResult | undefined> {
  const file = path.join(dir, WARMUP_FILE);
  if (!existsSync(file)) return undefined;
  const check = 'warmup';
  const t0 = performance.now();
  try {
    const records = readWarmupRecords(file);
    let replayed = 0;
    let other = 0;
    let notLoaded = 0;
    for (const [i, rec] of records.entries()) {
      const req = decodeWarmupRecord(rec, i);
      if (req.kind !== 'predict') {
        other++; // classify/regress/multi-inference records: replayed by serve, not checked here
        continue;
      }
      const key = req.signature ?? 'serving_default';
      // A signature left out by --signature, or one the engine cannot run (its ops:S check already fails): the engine
      // cannot say whether TF Serving would run the record, so it is not replayed rather than reported as failing.
      if (!model.signatures[key] && (model.unavailable[key] !== undefined || signatureFilter !== undefined)) {
        notLoaded++;
        continue;
      }
      try {
        await model.run(key, req.inputs, req.outputFilter);
      } catch (err) {
        return { check, status: 'fail', detail: `record ${i} (signature ${key}) fails: ${(err as Error).message}; TF Serving would refuse to load this version` };
      }
      replayed++;
    }
    let note = other ? `; ${other} classify/regress record${other === 1 ? '' : 's'} not replayed here` : '';
    if (notLoaded) note += `; ${notLoaded} record${notLoaded === 1 ? '' : 's'} for signatures not loaded here not replayed`;
    return { check, status: 'pass', detail: `${records.length} record${records.length === 1 ? '' : 's'}, CRCs ok, ${replayed} predict request${replayed === 1 ? '' : 's'} replayed${note}`, ms: Math.round((performance.now() - t0) * 10) / 10 };
  } catch (err) {
    return { check, status: 'fail', detail: (err as Error).message };
  }
}
