// onnxruntime session options shared by the Node peers and the browser bench page (which
// cannot import onnxruntime-node): no import of either runtime here.
import type { PeerOptions } from './peer.js';

/** Session options that turn onnxruntime's spinning pool threads off when `spinning` is false. */
export function ortSpinning(opts: Pick<PeerOptions, 'spinning'>): { extra?: Record<string, unknown> } {
  if (opts.spinning !== false) return {};
  return { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } };
}
