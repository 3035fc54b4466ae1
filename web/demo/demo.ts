// The demo page: draw a digit, classify it with LeNet-5 compressed (.nnz) and
// dense (.onnx), both on nnzip's WebAssembly runtime, with file sizes and the
// latency per run. The strokes are turned into an MNIST-like 28×28 input: the
// ink's bounding box scaled to fit 20×20, centred on its centre of mass.
import { createWebSession, Tensor, webThreadsAvailable, type Session } from '../../src/browser.js';

const SIZE = 28;
const BOX = 20;
/** Latency: the median over runs repeated for about this long (and at least MIN_RUNS). */
const TIME_MS = 10;
const MIN_RUNS = 5;
/** Strokes in quick succession are classified once, this long after the last one. */
const SETTLE_MS = 200;

interface Model {
  key: 'nnz' | 'onnx';
  file: string;
  bytes: number;
  session: Session;
}

const $ = <T extends Element>(sel: string): T => {
  const el = document.querySelector<T>(sel);
  if (!el) throw new Error(`demo: ${sel} missing from the page`);
  return el;
};

const kb = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} KB`);

function status(text: string, error = false): void {
  const el = $<HTMLElement>('#status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

async function load(key: Model['key'], file: string, threads: number): Promise<Model> {
  const res = await fetch(file);
  if (!res.ok) throw new Error(`${file}: HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const session = await createWebSession(bytes, { threads });
  const kernels = [...new Set(session.plan.steps.filter((s) => s.op === 'Conv' || s.op === 'Gemm' || s.op === 'MatMul').map((s) => s.kernel))];
  $(`#${key} .size`).textContent = `${kb(bytes.length)} (${bytes.length.toLocaleString('en-US')} bytes)`;
  $(`#${key} .kernels`).textContent = kernels.join(', ');
  return { key, file, bytes: bytes.length, session };
}

/** The drawing as the network's input: grey levels in [0, 1], MNIST's framing. */
function toInput(pad: CanvasRenderingContext2D, ctx: CanvasRenderingContext2D): Float32Array | undefined {
  const { width: w, height: h } = pad.canvas;
  const ink = pad.getImageData(0, 0, w, h).data;
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (ink[(y * w + x) * 4] > 0) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    }
  }
  if (x1 < 0) return undefined;
  const scale = BOX / Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const bw = (x1 - x0 + 1) * scale, bh = (y1 - y0 + 1) * scale;
  // first pass: the box, centred by size, to find the centre of mass
  const draw = (dx: number, dy: number): Float32Array => {
    ctx.fillStyle = 'black';
    ctx.fillRect(0, 0, SIZE, SIZE);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(pad.canvas, x0, y0, x1 - x0 + 1, y1 - y0 + 1, dx, dy, bw, bh);
    const px = ctx.getImageData(0, 0, SIZE, SIZE).data;
    return Float32Array.from({ length: SIZE * SIZE }, (_, i) => px[i * 4] / 255);
  };
  const first = draw((SIZE - bw) / 2, (SIZE - bh) / 2);
  let m = 0, mx = 0, my = 0;
  first.forEach((v, i) => { m += v; mx += v * (i % SIZE); my += v * Math.floor(i / SIZE); });
  const shift = (c: number) => Math.round((SIZE - 1) / 2 - c / m);
  return draw((SIZE - bw) / 2 + shift(mx), (SIZE - bh) / 2 + shift(my));
}

function softmax(logits: Float32Array): number[] {
  const max = Math.max(...logits);
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Classifies once (the shown result), then times repeated runs; returns the median ms per run. */
function classify(model: Model, input: Tensor): { digit: number; probs: number[]; ms: number } {
  const feed = { [model.session.inputNames[0]]: input };
  const logits = model.session.run(feed)[model.session.outputNames[0]].data as Float32Array;
  const times: number[] = [];
  for (const t0 = performance.now(); times.length < MIN_RUNS || performance.now() - t0 < TIME_MS;) {
    const t = performance.now();
    model.session.run(feed);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const probs = softmax(logits);
  return { digit: probs.indexOf(Math.max(...probs)), probs, ms: times[times.length >> 1] };
}

function show(model: Model, r?: { digit: number; probs: number[]; ms: number }): void {
  const section = $<HTMLElement>(`#${model.key}`);
  section.dataset.digit = r ? String(r.digit) : '';
  $(`#${model.key} .prediction`).textContent = r ? String(r.digit) : '?';
  $(`#${model.key} .latency`).textContent = r ? `${r.ms < 1 ? `${(r.ms * 1000).toFixed(0)} µs` : `${r.ms.toFixed(2)} ms`} per run` : '-';
  const bars = $(`#${model.key} .bars`);
  bars.replaceChildren(...Array.from({ length: 10 }, (_, d) => {
    const li = document.createElement('li');
    const p = r?.probs[d] ?? 0;
    li.className = r && d === r.digit ? 'top' : '';
    li.innerHTML = `<span>${d}</span><span class="bar"><span style="width:${(100 * p).toFixed(1)}%"></span></span><span>${(100 * p).toFixed(1)}%</span>`;
    return li;
  }));
}

function drawingPad(ctx: CanvasRenderingContext2D, onStroke: () => void): () => void {
  const pad = ctx.canvas;
  const clear = (): void => { ctx.fillStyle = 'black'; ctx.fillRect(0, 0, pad.width, pad.height); };
  clear();
  let last: [number, number] | undefined;
  const at = (e: PointerEvent): [number, number] => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  const line = (to: [number, number]): void => {
    ctx.strokeStyle = 'white';
    ctx.lineWidth = pad.width / 13;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(...(last ?? to));
    ctx.lineTo(...to);
    ctx.stroke();
    last = to;
  };
  pad.addEventListener('pointerdown', (e) => { pad.setPointerCapture(e.pointerId); last = undefined; line(at(e)); });
  pad.addEventListener('pointermove', (e) => { if (last) line(at(e)); });
  const end = (): void => { if (last) { last = undefined; onStroke(); } };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  return clear;
}

async function main(): Promise<void> {
  const threads = webThreadsAvailable() ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  const models = [await load('nnz', 'lenet5.nnz', threads), await load('onnx', 'lenet5.onnx', threads)];
  // both read back often: CPU-backed contexts (and the same resampling whatever the GPU)
  const pad = $<HTMLCanvasElement>('#canvas').getContext('2d', { willReadFrequently: true })!;
  const small = $<HTMLCanvasElement>('#small').getContext('2d', { willReadFrequently: true })!;
  // body's data-strokes counts the strokes so far, data-classified the strokes the shown result has seen
  let strokes = 0;
  const update = (): void => {
    const x = toInput(pad, small);
    for (const m of models) show(m, x && classify(m, new Tensor('float32', [1, 1, SIZE, SIZE], x)));
    document.body.dataset.classified = String(strokes);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = (): void => {
    document.body.dataset.strokes = String(++strokes);
    clearTimeout(timer);
    timer = setTimeout(update, SETTLE_MS);
  };
  const clear = drawingPad(pad, schedule);
  $('#clear').addEventListener('click', () => { clear(); small.fillRect(0, 0, SIZE, SIZE); update(); });
  update();
  const ratio = models[1].bytes / models[0].bytes;
  const why = threads > 1 ? `${threads} threads (Web Workers)` : webThreadsAvailable() ? '1 thread' : '1 thread (the page is not cross-origin isolated)';
  status(`ready: the .nnz file is ${ratio.toFixed(1)}× smaller than the .onnx; nnzip runs on ${why}`);
  document.body.dataset.ready = 'true';
}

main().catch((e: unknown) => {
  console.error(e);
  status(`error: ${(e as Error).message}`, true);
});
