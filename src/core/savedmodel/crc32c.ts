// CRC32C as TensorFlow stores it. TF (like LevelDB) never stores a raw CRC next to the data it covers: it stores the
// "masked" form, so that a CRC of bytes that themselves contain CRCs does not degenerate (tensorflow/core/lib/hash/crc32c.h).
import { crc32c as crc32cNative } from '@node-rs/crc32';

const MASK_DELTA = 0xa282ead8;

/** CRC32C of `bytes`, continuing from `initial` (the unmasked CRC of the bytes before them). Unsigned 32-bit. */
export function crc32c(bytes: Uint8Array, initial = 0): number {
  return crc32cNative(bytes, initial) >>> 0;
}

/** TensorFlow's crc32c::Mask: rotate right by 15 bits and add a constant. Unsigned 32-bit. */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/** Inverse of maskCrc. */
export function unmaskCrc(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}
