import { readFileSync } from 'node:fs';
import { fail } from '../../ir/errors.js';
import { reportHtml } from '../../report/html.js';
import { parseReportInput } from '../../report/report_inputs.js';
import { parse, str } from '../args.js';
import type { Command } from '../command.js';
import { Outputs } from '../outputs.js';

export const report: Command = {
  name: 'report',
  summary: 'an HTML page of a compression run: layers, weight histograms, bits, trade-offs, speed',
  usage: `usage: nnzip report RUN.json [MORE.json ...] -o report.html

One offline HTML file (inline SVG charts, no script) from the JSON files nnzip
writes, each recognised by its content:
  nnzip compress ... -o M.nnz     M.json: stage sizes and accuracies, the per-layer
                                  table, bits per weight, weight histograms before and
                                  after pruning and after sharing (with the centroids)
  nnzip sensitivity ... -o BASE   BASE.json: accuracy vs density curves per layer
  npm run bench -- --json B.json  speed next to onnxruntime and TF.js (also the
                                  browser bench's JSON)
  nnzip search ... -o DIR         DIR/front.json: the search's fronts, proxy and
                                  fully fine-tuned, against size and latency
Charts are drawn by Vega-Lite (optional dependencies vega and vega-lite).

  -o, --output FILE   the .html file to write (required)`,
  async run(argv) {
    const p = parse('report', argv, { output: { type: 'string', short: 'o' } });
    if (p.positionals.length === 0) fail('report: give at least one JSON file (from nnzip compress, nnzip sensitivity or npm run bench); see `nnzip report --help`');
    const out = str(p, 'output') ?? fail('report: -o report.html is required');
    if (!/\.html?$/i.test(out)) fail(`-o ${out}: the output must end in .html`);
    const outputs = new Outputs('report', p.positionals, [{ flag: '-o', path: out }]);
    const inputs = p.positionals.map((path) => {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        fail(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      return parseReportInput(text, path);
    });
    const { version } = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const html = await reportHtml(inputs, `nnzip ${version}`);
    outputs.stage(out, html);
    outputs.commit();
    console.log(`${out}: ${html.length.toLocaleString('en-US')} bytes, ${(html.match(/<figure class="chart"/g) ?? []).length} charts from ${inputs.map((i) => `${i.where} (${i.kind})`).join(', ')}`);
    return 0;
  },
};
