// A SavedModel whose checkpoint holds a partitioned variable, as tf.compat.v1 partitioners (Estimator embeddings) save
// one: graph nodes `w/part_0`, `w/part_1`; in the checkpoint, the whole variable `w` is an entry with `slices` and no
// data of its own, and each slice is an entry with data (TF encodes slice keys; plain names do here).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodePlain } from '../../src/core/proto/schema.js';
import { crc32c, maskCrc } from '../../src/core/savedmodel/crc32c.js';
import { buildTable } from './table-writer.js';

/** Writes the model into `dir`: signature serving_default, y = concat(w/part_0, w/part_1) (w = [1, 2, 3, 4]). */
export function writePartitionedModel(dir: string): void {
  const t = (type: string) => ({ type });
  const part = (name: string) => [
    { name, op: 'VariableV2', attr: { dtype: t('DT_FLOAT'), shape: { shape: { dim: [{ size: 2 }] } } } },
    { name: `${name}/read`, op: 'Identity', input: [name], attr: { T: t('DT_FLOAT') } },
  ];
  writeFileSync(path.join(dir, 'saved_model.pb'), encodePlain('tensorflow.SavedModel', {
    savedModelSchemaVersion: 1,
    metaGraphs: [{
      metaInfoDef: { tags: ['serve'] },
      graphDef: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: t('DT_FLOAT') } },
          ...part('w/part_0'),
          ...part('w/part_1'),
          { name: 'axis', op: 'Const', attr: { dtype: t('DT_INT32'), value: { tensor: { dtype: 'DT_INT32', tensorShape: {}, intVal: [0] } } } },
          { name: 'y', op: 'ConcatV2', input: ['w/part_0/read', 'w/part_1/read', 'axis'], attr: { N: { i: 2 }, T: t('DT_FLOAT'), Tidx: t('DT_INT32') } },
        ],
      },
      signatureDef: {
        serving_default: {
          methodName: 'tensorflow/serving/predict',
          inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: {} } },
          outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 4 }] } } },
        },
      },
    }],
  }));
  mkdirSync(path.join(dir, 'variables'));
  const prefix = path.join(dir, 'variables', 'variables');
  const part0 = Buffer.from(Float32Array.of(1, 2).buffer);
  const part1 = Buffer.from(Float32Array.of(3, 4).buffer);
  writeFileSync(`${prefix}.data-00000-of-00001`, Buffer.concat([part0, part1]));
  const entry = (e: Record<string, unknown>) => Buffer.from(encodePlain('tensorflow.BundleEntryProto', e));
  const vec = (n: number) => ({ dim: [{ size: n }] });
  writeFileSync(`${prefix}.index`, buildTable([
    [Buffer.alloc(0), Buffer.from(encodePlain('tensorflow.BundleHeaderProto', { numShards: 1 }))],
    [Buffer.from('w'), entry({ dtype: 'DT_FLOAT', shape: vec(4), slices: [{ extent: [{ start: 0, length: 2 }] }, { extent: [{ start: 2, length: 2 }] }] })],
    [Buffer.from('w\u0000slice0'), entry({ dtype: 'DT_FLOAT', shape: vec(2), offset: 0, size: 8, crc32c: maskCrc(crc32c(part0)) })],
    [Buffer.from('w\u0000slice1'), entry({ dtype: 'DT_FLOAT', shape: vec(2), offset: 8, size: 8, crc32c: maskCrc(crc32c(part1)) })],
  ], 8, false));
}
