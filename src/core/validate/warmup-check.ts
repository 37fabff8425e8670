// The warmup check: TF Serving replays assets.extra/tf_serving_warmup_requests before a version goes AVAILABLE and
// fails the whole load when a record is corrupt, unparsable, over the 1000-record limit, or a request errors. validate
// does the same with the engine so a bad warmup file is caught before it ships, not when a server refuses the model.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { EngineModel } from '../engine/model.js';
import { decodeWarmupRecord, readWarmupRecords, WARMUP_FILE } from '../savedmodel/warmup-file.js';
import type { CheckResult } from './report.js';

/** undefined when the version has no warmup file. */
export async function warmupCheck(dir: string, model: EngineModel): Promise<CheckResult | undefined> {
  const file = path.join(dir, WARMUP_FILE);
  if (!existsSync(file)) return undefined;
  const check = 'warmup';
  const t0 = performance.now();
  try {
    const records = readWarmupRecords(file);
    let replayed = 0;
    let other = 0;
    for (const [i, rec] of records.entries()) {
      const req = decodeWarmupRecord(rec, i);
      if (req.kind !== 'predict') {
        other++; // classify/regress/multi-inference records: replayed by serve, not checked here
        continue;
      }
      const key = req.signature ?? 'serving_default';
      try {
        await model.run(key, req.inputs, req.outputFilter);
      } catch (err) {
        return { check, status: 'fail', detail: `record ${i} (signature ${key}) fails: ${(err as Error).message}; TF Serving would refuse to load this version` };
      }
      replayed++;
    }
    const note = other ? `; ${other} classify/regress record${other === 1 ? '' : 's'} not replayed here` : '';
    return { check, status: 'pass', detail: `${records.length} record${records.length === 1 ? '' : 's'}, CRCs ok, ${replayed} predict request${replayed === 1 ? '' : 's'} replayed${note}`, ms: Math.round((performance.now() - t0) * 10) / 10 };
  } catch (err) {
    return { check, status: 'fail', detail: (err as Error).message };
  }
}
