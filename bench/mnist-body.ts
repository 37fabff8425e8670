// The request body the serving benchmarks send (bench/serve.ts, bench/serve-cpu.ts), so their figures compare: one
// MNIST-like instance, 28x28 (or 28x28x1 for a CNN model, chosen by the directory name), deterministic pseudo-pixels
// with one decimal, every number written with a decimal point.
export function makeBody(modelDir: string): string {
  const cnn = /cnn/.test(modelDir);
  const rows: unknown[] = [];
  for (let i = 0; i < 28; i++) {
    const row: unknown[] = [];
    for (let j = 0; j < 28; j++) {
      const v = ((i * 31 + j * 17) % 10) / 10;
      row.push(cnn ? [v] : v);
    }
    rows.push(row);
  }
  return JSON.stringify({ instances: [rows] }).replace(/(\[|,)(0|1)(?=[,\]])/g, '$1$2.0');
}
