// A SavedModel (TF1 graph, no variables) that moves int64 ids around, for the exact int64 path (int64-exact.ts):
//   serving_default: ids [-1] int64 → same = Identity(ids), picked = GatherV2(ids, [2, 0]), twice = ConcatV2(ids, ids),
//                    n = Size(ids) (int32, depends only on the shape)
//   plus_one:        ids → AddV2(ids, 1) (computes on the values: beyond int32 it is refused)
//   mixed:           ids → ConcatV2(ids, [7]) (mixes ids with a constant: refused too)
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodePlain } from '../../src/core/proto/schema.js';

const t = (type: string) => ({ type });
const i64 = (values: number[]) => ({ tensor: { dtype: 'DT_INT64', tensorShape: { dim: [{ size: values.length }] }, int64Val: values } });
const i32 = (values: number[], shape: number[] = [values.length]) => ({ tensor: { dtype: 'DT_INT32', tensorShape: { dim: shape.map((size) => ({ size })) }, intVal: values } });
const vec = { dim: [{ size: -1 }] };

export function writeInt64Model(dir: string): void {
  const node = [
    { name: 'ids', op: 'Placeholder', attr: { dtype: t('DT_INT64'), shape: { shape: vec } } },
    { name: 'same', op: 'Identity', input: ['ids'], attr: { T: t('DT_INT64') } },
    { name: 'idx', op: 'Const', attr: { dtype: t('DT_INT32'), value: i32([2, 0]) } },
    { name: 'axis', op: 'Const', attr: { dtype: t('DT_INT32'), value: i32([0], []) } },
    { name: 'picked', op: 'GatherV2', input: ['ids', 'idx', 'axis'], attr: { Tparams: t('DT_INT64'), Tindices: t('DT_INT32'), Taxis: t('DT_INT32'), batch_dims: { i: 0 } } },
    { name: 'twice', op: 'ConcatV2', input: ['ids', 'same', 'axis'], attr: { N: { i: 2 }, T: t('DT_INT64'), Tidx: t('DT_INT32') } },
    { name: 'n', op: 'Size', input: ['ids'], attr: { T: t('DT_INT64'), out_type: t('DT_INT32') } },
    { name: 'one', op: 'Const', attr: { dtype: t('DT_INT64'), value: i64([1]) } },
    { name: 'plus', op: 'AddV2', input: ['ids', 'one'], attr: { T: t('DT_INT64') } },
    { name: 'seven', op: 'Const', attr: { dtype: t('DT_INT64'), value: i64([7]) } },
    { name: 'mix', op: 'ConcatV2', input: ['ids', 'seven', 'axis'], attr: { N: { i: 2 }, T: t('DT_INT64'), Tidx: t('DT_INT32') } },
  ];
  const info = (name: string, dtype = 'DT_INT64', shape = vec) => ({ name, dtype, tensorShape: shape });
  const sig = (outputs: Record<string, unknown>) => ({ methodName: 'tensorflow/serving/predict', inputs: { ids: info('ids:0') }, outputs });
  writeFileSync(path.join(dir, 'saved_model.pb'), encodePlain('tensorflow.SavedModel', {
    savedModelSchemaVersion: 1,
    metaGraphs: [{
      metaInfoDef: { tags: ['serve'] },
      graphDef: { node },
      signatureDef: {
        serving_default: sig({ same: info('same:0'), picked: info('picked:0'), twice: info('twice:0'), n: info('n:0', 'DT_INT32', { dim: [] }) }),
        plus_one: sig({ y: info('plus:0') }),
        mixed: sig({ y: info('mix:0') }),
      },
    }],
  }));
}
