import { exportOnnx } from '../../onnx/export.js';
import { fail } from '../../ir/errors.js';
import { oneModel, parse, str } from '../args.js';
import type { Command } from '../command.js';
import { loadModel } from '../load_model.js';
import { Outputs, requireExtension } from '../outputs.js';

export const decompress: Command = {
  name: 'decompress',
  summary: 'write a .nnz model back out as a dense ONNX file',
  usage: `usage: nnzip decompress MODEL.nnz -o MODEL.onnx

Decodes every tensor (bit-exact) and writes an ONNX file that onnxruntime,
PyTorch or any other runtime loads.

  -o, --output FILE   the .onnx file to write (required)`,
  async run(argv) {
    const p = parse('decompress', argv, { output: { type: 'string', short: 'o' } });
    const path = oneModel('decompress', p);
    const out = str(p, 'output') ?? fail('decompress: -o MODEL.onnx is required');
    requireExtension(out, '-o', '.onnx');
    const outputs = new Outputs('decompress', [path], [{ flag: '-o', path: out }]);
    const model = loadModel(path);
    const bytes = exportOnnx(model.graph);
    outputs.stage(out, bytes);
    outputs.commit();
    console.log(`${out}: ${bytes.length.toLocaleString('en-US')} bytes (opset ${model.graph.opset}, ${model.graph.nodes.length} nodes)`);
    return 0;
  },
};
