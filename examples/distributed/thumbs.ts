/**
 * The CPU step of the distributed demo: a thumbnailer. Workers run it (`tsaio worker ./thumbs.ts`);
 * the caller only names it. No file I/O: an "image" is made from a seed, so the demo needs nothing
 * but Redis.
 */

/** A grayscale width×height image made from `seed` (smooth gradients plus noise). */
function render(seed: number, width: number, height: number): Uint8Array {
  const px = new Uint8Array(width * height);
  let s = seed >>> 0 || 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      px[y * width + x] = ((x * 255) / width + (y * 255) / height) / 2 + ((s >>> 0) % 16);
    }
  }
  return px;
}

/** Renders image `seed` at width×height, scales it down by `factor` (box filter), and returns the thumbnail's summary. */
export function thumbnail(seed: number, width: number, height: number, factor: number): { seed: number; width: number; height: number; mean: number; pid: number } {
  const src = render(seed, width, height);
  const w = Math.floor(width / factor);
  const h = Math.floor(height / factor);
  const out = new Uint8Array(w * h);
  let total = 0;
  for (let ty = 0; ty < h; ty++) {
    for (let tx = 0; tx < w; tx++) {
      let sum = 0;
      for (let dy = 0; dy < factor; dy++) for (let dx = 0; dx < factor; dx++) sum += src[(ty * factor + dy) * width + tx * factor + dx];
      out[ty * w + tx] = sum / (factor * factor);
      total += out[ty * w + tx];
    }
  }
  return { seed, width: w, height: h, mean: Math.round(total / (w * h)), pid: process.pid };
}
