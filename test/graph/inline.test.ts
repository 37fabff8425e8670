// Inlining a call names its body nodes `<call>/<node>`: a graph that already has a node of such a name is refused
// with both named, never silently overwritten.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inlineCalls } from '../../src/core/graph/inline.js';
import { OpRegistry } from '../../src/core/graph/opdefs.js';
import type { WorkGraph } from '../../src/core/graph/work-graph.js';
import type { FunctionDef, NodeDef } from '../../src/core/savedmodel/types.js';

const t = (type: string) => ({ type });

function graph(extra: NodeDef[]): { g: WorkGraph; library: Map<string, FunctionDef> } {
  const fn: FunctionDef = {
    signature: { name: 'double', inputArg: [{ name: 'a', type: 'DT_FLOAT' }], outputArg: [{ name: 'out', type: 'DT_FLOAT' }] },
    nodeDef: [{ name: 'mul', op: 'AddV2', input: ['a', 'a'], attr: { T: t('DT_FLOAT') } }],
    ret: { out: 'mul:z:0' },
  };
  const nodes: NodeDef[] = [
    { name: 'x', op: 'Placeholder', input: [], attr: { dtype: t('DT_FLOAT') } },
    { name: 'call', op: 'PartitionedCall', input: ['x:0'], attr: { f: { func: { name: 'double' } }, Tin: { list: { type: ['DT_FLOAT'] } }, Tout: { list: { type: ['DT_FLOAT'] } } } },
    { name: 'y', op: 'Identity', input: ['call:0'], attr: { T: t('DT_FLOAT') } },
    ...extra,
  ];
  return { g: { nodes: new Map(nodes.map((n) => [n.name!, n])), values: new Map() }, library: new Map([['double', fn]]) };
}

test('a call is inlined under its own name and its output redirected', () => {
  const { g, library } = graph([]);
  inlineCalls(g, library, new OpRegistry());
  assert.deepEqual([...g.nodes.keys()].sort(), ['call/mul', 'x', 'y']);
  assert.deepEqual(g.nodes.get('y')!.input, ['call/mul:0']);
});

test('a body node whose inlined name is taken is refused, not overwritten', () => {
  const { g, library } = graph([{ name: 'call/mul', op: 'Neg', input: ['x:0'], attr: { T: t('DT_FLOAT') } }]);
  assert.throws(() => inlineCalls(g, library, new OpRegistry()), /inlining call \(function double\) would create node call\/mul, which the graph already has/);
});
