import { analyzeGraph } from '../../report/analyze.js';
import { formatPatternLayers, patternLayerRows } from '../../report/pattern_report.js';
import { formatBytes } from '../../ir/print.js';
import { formatTable } from '../../report/table.js';
import { oneModel, parse } from '../args.js';
import type { Command } from '../command.js';
import { loadModel } from '../load_model.js';

export const inspect: Command = {
  name: 'inspect',
  summary: 'per-layer table: shapes, params, MACs, sparsity, distinct values, bits per weight, bytes',
  usage: `usage: nnzip inspect MODEL [--json]

Prints one row per node: name, op, output shape (batch 1), parameters, MACs,
sparsity (% zeros), then what its weight already is — distinct nonzero values,
the exact format it keeps (float, sparse, codebook, grid = integers and a scale,
grid/ch = a scale per channel) and the bits per value that format needs — and
the bits per weight and bytes this file stores, with totals; then the
pattern-pruned convs: their patterns, the kernels kept and the kernel the
compiler chose (stored as patterns, or found in the zeros of a model pruned elsewhere).

  --json     machine-readable output
  --graph    also print the graph as text`,
  async run(argv) {
    const p = parse('inspect', argv, { json: { type: 'boolean' }, graph: { type: 'boolean' } });
    const model = loadModel(oneModel('inspect', p));
    const stored = model.tensorBytes;
    const stats = analyzeGraph(model.graph, stored ? (name) => stored.get(name) ?? 0 : undefined);
    const patterns = patternLayerRows(model.graph);
    if (p.values.json) {
      console.log(JSON.stringify({ model: model.path, opset: model.graph.opset, ...stats, patterns }, null, 2));
      return 0;
    }
    if (p.values.graph) {
      const { printGraph } = await import('../../ir/print.js');
      console.log(printGraph(model.graph));
    }
    const pct = (z: number, n: number) => (n ? ((100 * z) / n).toFixed(1) + '%' : '-');
    const rows = stats.layers.map((l) => [
      l.name,
      l.op,
      `[${l.outputShape.join(',')}]`,
      l.params,
      l.macs,
      pct(l.zeros, l.params),
      l.weight ? (l.weight.distinct ?? '>65535') : '-',
      l.weight?.format ?? '-',
      l.weight?.bits ?? '-',
      l.params ? l.bitsPerWeight.toFixed(1) : '-',
      l.params ? formatBytes(l.bytes) : '-',
    ]);
    const t = stats.total;
    const footer = ['total', '', '', t.params, t.macs, pct(t.zeros, t.params), '', '', '', t.params ? ((t.bytes * 8) / t.params).toFixed(1) : '-', formatBytes(t.bytes)];
    console.log(`${model.path}: opset ${model.graph.opset}, ${model.graph.nodes.length} nodes`);
    console.log(formatTable(['name', 'op', 'output', 'params', 'MACs', 'sparsity', 'distinct', 'format', 'bits', 'bits/w', 'bytes'], rows, footer));
    if (patterns.length) console.log(`\n${formatPatternLayers(patterns)}`);
    return 0;
  },
};
