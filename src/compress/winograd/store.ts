// Winograd as a storage choice: the 3×3 stride-1 single-group conv filters that no other
// method stored compressed are kept as their F(m,3) transforms U = G g Gᵀ (ir/winograd.ts),
// so a session runs that tile without transforming at load; the file grows by (m+2)²/9.
import { attrInt } from '../../ir/graph.js';
import type { TensorFormat } from '../../ir/tensor_format.js';
import { window2d, windowOf } from '../../ir/window.js';
import { transformFilters, winogradApplies, type WinogradTile } from '../../ir/winograd.js';
import type { Model } from '../../train/model.js';
import type { Layer } from '../layers.js';

/** Whether a layer is a conv the Winograd kernels run (3×3, stride 1, no dilation, one group; any padding). */
export function winogradLayer(l: Layer, shape: readonly number[]): boolean {
  if (l.node.op !== 'Conv' || shape.length !== 4 || shape[2] !== 3 || shape[3] !== 3) return false;
  const w = windowOf(l.node, 2, [3, 3]);
  return winogradApplies(window2d(w, w.pads), attrInt(l.node, 'group', 1));
}

/** The transformed-filter format of each such layer's current weights (`keep` says which layers may change format). */
export function winogradFormats(model: Model, layers: Layer[], tile: WinogradTile, keep: (l: Layer) => boolean): Map<string, TensorFormat> {
  model.refreshWeights();
  const out = new Map<string, TensorFormat>();
  for (const l of layers) {
    const p = model.param(l.weight);
    if (!keep(l) || !winogradLayer(l, p.shape)) continue;
    out.set(l.weight, { kind: 'winograd', tile, transformed: transformFilters(p.data, p.shape[0], p.shape[1], tile) });
  }
  return out;
}
