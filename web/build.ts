// `npm run build:web`: the browser files, with esbuild.
//   dist/browser/nnzip.js        one ESM file of 'nnzip/browser' (src/browser.ts), minified: no
//                                worker script or .wasm beside it (kernels are generated at run time)
//   dist/browser/demo/           the demo page (web/demo/): draw a digit, LeNet-5 compressed vs dense
// The tests and benchmarks build into a folder of their own with the same functions.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The compressed and dense LeNet-5 the demo compares (committed fixtures). */
export const DEMO_MODELS = {
  nnz: join(ROOT, 'fixtures/models/lenet5_deep_compression.nnz'),
  onnx: join(ROOT, 'fixtures/models/lenet5_dense.onnx'),
};

export interface BuiltFile {
  path: string;
  bytes: number;
  gzipBytes: number;
}

/** Bytes of a file raw and gzipped (level 9, as a server would send it). */
export function fileSize(path: string): BuiltFile {
  const data = readFileSync(path);
  return { path, bytes: data.length, gzipBytes: gzipSync(data, { level: 9 }).length };
}

/** Imports of the library in page scripts load the bundle beside them instead of a second copy. */
function libraryAsBundle(url: string): esbuild.Plugin {
  return {
    name: 'nnzip-bundle',
    setup(b) {
      b.onResolve({ filter: /\/src\/browser\.js$/ }, () => ({ path: url, external: true }));
    },
  };
}

/** Bundles a browser script (TypeScript) into one minified ESM file. */
export async function bundle(entry: string, outfile: string, opts: { library?: string; plugins?: esbuild.Plugin[] } = {}): Promise<BuiltFile> {
  const plugins = [...(opts.library ? [libraryAsBundle(opts.library)] : []), ...(opts.plugins ?? [])];
  const r = await esbuild.build({
    entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    minify: true, legalComments: 'none', logLevel: 'silent', plugins,
  });
  if (r.errors.length || r.warnings.length) throw new Error(`esbuild ${entry}: ${[...r.errors, ...r.warnings].map((m) => m.text).join('; ')}`);
  return fileSize(outfile);
}

/** The library bundle at OUT/nnzip.js and the demo page at OUT/demo/. */
export async function buildWeb(out: string): Promise<{ library: BuiltFile; demo: string }> {
  mkdirSync(join(out, 'demo'), { recursive: true });
  const library = await bundle(join(ROOT, 'src/browser.ts'), join(out, 'nnzip.js'));
  const demo = join(out, 'demo');
  await bundle(join(ROOT, 'web/demo/demo.ts'), join(demo, 'demo.js'), { library: '../nnzip.js' });
  copyFileSync(join(ROOT, 'web/demo/index.html'), join(demo, 'index.html'));
  copyFileSync(DEMO_MODELS.nnz, join(demo, 'lenet5.nnz'));
  copyFileSync(DEMO_MODELS.onnx, join(demo, 'lenet5.onnx'));
  return { library, demo };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = join(ROOT, 'dist/browser');
  const { library } = await buildWeb(out);
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`${library.path.slice(ROOT.length)}: ${kb(library.bytes)} (${kb(library.gzipBytes)} gzip)`);
  console.log(`${join(out, 'demo').slice(ROOT.length)}/: the demo page (nnzip demo --serve)`);
}
