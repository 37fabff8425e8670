// Human-readable `tfsvc inspect` output, rendered from an InspectReport. Pure: returns a string, colors only when asked
// (the command decides from NO_COLOR and whether stdout is a terminal).
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { SignatureInfo, TensorSpec } from '../engine/types.js';
import type { InspectReport } from './report.js';

export interface RenderOptions {
  color: boolean;
  /** Print only the signature table. */
  signaturesOnly?: boolean;
  /** Add variables, ops, functions, object graph (the report must have been built with `all`). */
  all?: boolean;
}

/** TF2 SavedModels carry this pseudo-signature for their initializer; it is not callable, so the table skips it. */
export const INIT_OP_SIGNATURE = '__saved_model_init_op';

export function renderReport(r: InspectReport, options: RenderOptions): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const out: string[] = [];
  if (!options.signaturesOnly) out.push(renderSummary(r, c), '');
  out.push(renderSignatures(r, c));
  if (options.all) {
    if (r.checkpoint) out.push('', renderVariables(r, c));
    if (r.ops) out.push('', renderOps(r, c));
    if (r.functions?.length) out.push('', renderFunctions(r, c));
    if (r.objectGraph) {
      const kinds = Object.entries(r.objectGraph.kinds).map(([k, n]) => `${k} ${n}`).join(', ');
      out.push('', `${c.bold('Object graph')}  ${r.objectGraph.nodes} nodes: ${kinds}`);
    }
  }
  return out.join('\n') + '\n';
}

function renderSummary(r: InspectReport, c: ChalkInstance): string {
  const rows: [string, string][] = [];
  if (r.versions.length) {
    const chosen = r.version === r.versions[r.versions.length - 1] ? 'newest' : 'chosen with --version';
    rows.push(['version', `${c.bold(String(r.version))} (${chosen}; versions: ${r.versions.join(', ')})`]);
  } else if (r.version !== null) {
    rows.push(['version', String(r.version)]);
  }
  if (r.ignoredDirs.length) {
    rows.push(['ignored', `${r.ignoredDirs.join(', ')} ${c.dim('(not version numbers; TF Serving ignores them too)')}`]);
  }
  if (r.source === 'disk') {
    const tagSets = r.tagSets.map((t) => `[${t.join(',')}]`).join(' ');
    rows.push(['file', `${basename(r.file ?? '')} · schema ${r.savedModelSchemaVersion ?? 0} · meta graphs ${tagSets}`]);
    const p = r.producer;
    const producer = [
      // TF writes both strings; a file with only the git version was written by something else (tfsvc's exports
      // record "tfsvc <version>" there), so say what it names.
      p.tensorflowVersion
        ? `TensorFlow ${p.tensorflowVersion}`
        : p.tensorflowGitVersion
          ? `TensorFlow version not recorded (git version "${p.tensorflowGitVersion}")`
          : 'TensorFlow version not recorded',
      p.graphProducer !== null ? `graph producer ${p.graphProducer}` : '',
      p.kerasVersion ? `Keras ${p.kerasVersion}` : '',
    ].filter(Boolean);
    rows.push(['producer', producer.join(' · ')]);
    rows.push(['graph', `${r.graph.nodes} nodes · ${r.graph.functions} functions`]);
    if (r.checkpoint) {
      const ck = r.checkpoint;
      const slots = ck.variables.filter((v) => v.optimizerSlot).length;
      const crc = ck.crc === 'ok' ? c.green('CRC32C ok') : c.dim('CRC32C not checked');
      rows.push([
        'variables',
        `${ck.variables.length}${slots ? ` (${slots} optimizer slots)` : ''} · ${formatBytes(ck.totalBytes)} in ${ck.shards} shard${ck.shards === 1 ? '' : 's'} · ${crc}`,
      ]);
    } else {
      rows.push(['variables', 'none']);
    }
    rows.push(['assets', r.assets.length ? r.assets.join(', ') : 'none']);
    if (r.assetsExtra.length) rows.push(['assets.extra', r.assetsExtra.join(', ')]);
    for (const w of r.warnings ?? []) rows.push(['warning', c.yellow(w)]);
  } else if (r.versions.length === 0 && r.version === null) {
    rows.push(['version', 'not reported']);
  }
  const head = `${c.bold(r.source === 'url' ? 'Served model' : 'SavedModel')}  ${r.dir}`;
  const width = Math.max(...rows.map(([k]) => k.length));
  return [head, ...rows.map(([k, v]) => `  ${c.cyan(k.padEnd(width))}  ${v}`)].join('\n');
}

/** Signature keys in display order: serving_default first, then alphabetical, the init op left out. */
export function displayedSignatures(r: InspectReport): SignatureInfo[] {
  return Object.values(r.signatures)
    .filter((s) => s.key !== INIT_OP_SIGNATURE)
    .sort((a, b) => (a.key === 'serving_default' ? -1 : b.key === 'serving_default' ? 1 : a.key.localeCompare(b.key)));
}

function renderSignatures(r: InspectReport, c: ChalkInstance): string {
  const sigs = displayedSignatures(r);
  const title = `${c.bold('Signatures')}${r.tags.length ? c.dim(`  (meta graph [${r.tags.join(',')}])`) : ''}`;
  if (sigs.length === 0) return `${title}\n  none`;
  const table = newTable(c, ['Signature', 'Method', '', 'Alias', 'DType', 'Shape', 'Tensor']);
  for (const s of sigs) {
    const rows: [string, string, TensorSpec][] = [
      ...Object.entries(s.inputs).map(([alias, t]) => ['in', alias, t] as [string, string, TensorSpec]),
      ...Object.entries(s.outputs).map(([alias, t]) => ['out', alias, t] as [string, string, TensorSpec]),
    ];
    if (rows.length === 0) {
      table.push([c.bold(s.key), shortMethod(s.methodName), c.dim('(no inputs or outputs)'), '', '', '', '']);
      continue;
    }
    // One table row per signature, one line per tensor: separators fall between signatures only.
    const col = (f: (row: [string, string, TensorSpec]) => string) => rows.map(f).join('\n');
    table.push([
      c.bold(s.key),
      shortMethod(s.methodName),
      col(([dir]) => (dir === 'in' ? c.cyan(dir) : c.magenta(dir))),
      col(([, alias]) => alias),
      col(([, , t]) => t.dtype),
      col(([, , t]) => formatShape(t.shape)),
      col(([, , t]) => c.dim(t.name)),
    ]);
  }
  const notes: string[] = [];
  if (r.signatures[INIT_OP_SIGNATURE]) notes.push(c.dim(`  + ${INIT_OP_SIGNATURE} (initializer run once at load; not callable)`));
  return [title, table.toString(), ...notes].join('\n');
}

function renderVariables(r: InspectReport, c: ChalkInstance): string {
  const ck = r.checkpoint!;
  // TF2 checkpoint keys are long paths; when the object graph names the variables, lead with the name, key last.
  const named = ck.variables.some((v) => v.name);
  const table = newTable(c, ['Variable', 'DType', 'Shape', 'Bytes', 'Values', ...(named ? ['Checkpoint key'] : [])], true);
  for (const v of ck.variables) {
    const label = v.name ?? v.key;
    table.push([
      v.optimizerSlot ? c.dim(label) : label,
      v.dtype,
      formatShape(v.shape),
      formatBytes(v.bytes),
      v.values ? formatValues(v.values) : '',
      ...(named ? [c.dim(v.key)] : []),
    ]);
  }
  return `${c.bold('Variables')}  ${c.dim(ck.prefix)}\n${table.toString()}`;
}

function renderOps(r: InspectReport, c: ChalkInstance): string {
  const ops = r.ops ?? [];
  const total = ops.reduce((s, o) => s + o.count, 0);
  const items = ops.map((o) => `${o.op} ${c.dim('×' + o.count)}`);
  const lines: string[] = [];
  let line = ' ';
  // Wrap at ~100 visible characters (ANSI codes don't count).
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
  for (const item of items) {
    if (visible(line) + visible(item) + 2 > 100 && line.trim()) {
      lines.push(line);
      line = ' ';
    }
    line += ` ${item},`;
  }
  if (line.trim()) lines.push(line.replace(/,$/, ''));
  return `${c.bold('Ops')}  ${ops.length} types, ${total} nodes (graph and function bodies)\n${lines.join('\n')}`;
}

function renderFunctions(r: InspectReport, c: ChalkInstance): string {
  const table = newTable(c, ['Function', 'Inputs', 'Outputs', 'Nodes'], true);
  for (const f of r.functions ?? []) table.push([f.name, String(f.inputs), String(f.outputs), String(f.nodes)]);
  return `${c.bold('Functions')}  ${r.functions?.length ?? 0}\n${table.toString()}`;
}

/** A table; `compact` drops the rules between body rows. */
function newTable(c: ChalkInstance, head: string[], compact = false): Table.Table {
  // cli-table3 colors headers itself (red) unless its style is emptied; chalk decides colors here instead.
  const chars = compact ? { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } : {};
  return new Table({ head: head.map((h) => c.bold(h)), style: { head: [], border: [] }, chars }) as Table.Table;
}

export function shortMethod(m: string): string {
  return m.startsWith('tensorflow/serving/') ? m.slice('tensorflow/serving/'.length) : m || '-';
}

/** `[-1, 28, 28]`; `[] (scalar)`; `unknown rank`. */
export function formatShape(shape: number[] | null): string {
  if (shape === null) return 'unknown rank';
  if (shape.length === 0) return '[] scalar';
  return `[${shape.join(', ')}]`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** Exact int64 strings print as they are; floats with 6 significant digits. */
function formatValues(values: Array<number | string>): string {
  return values.map((v) => (typeof v === 'string' || Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))))).join(', ');
}

function basename(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}
