// What a compression run changed in each layer's weights, in words: the lines a
// user must see when weights were changed without data to measure the damage
// ("fc2: density 19% → 10%").
import type { Graph } from '../ir/graph.js';
import type { LayerIntake } from './intake.js';
import type { Layer } from './layers.js';
import { filterAxisOf } from './prune/structured.js';

export interface LayerChange {
  layer: string;
  /** What changed, e.g. ["64 → 32 filters", "density 19% → 10%"]. */
  changes: string[];
}

const pct = (x: number): string => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;

/** Whether `after` is `before` with some weights set to zero (pruned, not otherwise changed). */
function onlyZeroed(before: Float32Array, after: Float32Array): boolean {
  const x = new Uint32Array(before.buffer, before.byteOffset, before.length);
  const y = new Uint32Array(after.buffer, after.byteOffset, after.length);
  for (let i = 0; i < x.length; i++) if (y[i] !== x[i] && y[i] !== 0) return false;
  return true;
}

function shapeChanges(layer: Layer, from: number[], to: number[]): string[] {
  const out = filterAxisOf(layer.node);
  const [outputs, inputs] = layer.kind === 'conv' ? ['filters', 'input channels'] : ['neurons', 'inputs'];
  return from.flatMap((d, i) => {
    if (d === to[i]) return [];
    return [i === out ? `${d} → ${to[i]} ${outputs}` : i === 1 - out ? `${d} → ${to[i]} ${inputs}` : `dim ${i} ${d} → ${to[i]}`];
  });
}

const values = (l: LayerIntake): string => (l.distinct === undefined ? 'over 65535' : String(l.distinct));

function describe(layer: Layer, b: LayerIntake, a: LayerIntake, before: Float32Array, after: Float32Array): string[] {
  const out = shapeChanges(layer, b.shape, a.shape);
  const thinned = out.length > 0; // then fewer values are left: their count says nothing
  if (pct(b.density) !== pct(a.density)) out.push(`density ${pct(b.density)} → ${pct(a.density)}`);
  if (thinned || onlyZeroed(before, after)) return out;
  out.push(b.distinct !== a.distinct ? `${values(b)} → ${values(a)} distinct values${a.format?.kind === 'codebook' ? ` (${a.bits}-bit codebook)` : ''}` : 'values changed');
  return out;
}

/** The layers whose weights differ between two graphs (by weight name), with what changed. */
export function layerChanges(layers: Layer[], before: { graph: Graph; intake: LayerIntake[] }, after: { graph: Graph; intake: LayerIntake[] }): LayerChange[] {
  const result: LayerChange[] = [];
  for (const layer of layers) {
    const b = before.intake.find((l) => l.weight === layer.weight);
    const a = after.intake.find((l) => l.weight === layer.weight);
    if (!b || !a) continue;
    const x = before.graph.initializers.get(layer.weight)!.data as Float32Array;
    const y = after.graph.initializers.get(layer.weight)!.data as Float32Array;
    const changes = describe(layer, b, a, x, y);
    if (changes.length) result.push({ layer: layer.name, changes });
  }
  return result;
}
