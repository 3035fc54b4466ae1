// Shared pieces of the reproductions: loading fixtures and recipes, measuring
// the accuracy of a graph as the runtime runs it, formatting percentages.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseRecipe, type Recipe } from '../../src/compress/recipe.js';
import { loadDataset, type DatasetName } from '../../src/data/datasets.js';
import type { Graph } from '../../src/ir/graph.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { sessionAccuracy } from '../../src/eval/runners.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const FIXTURE_DIR = `${ROOT}fixtures/models`;

export function fixture(file: string): Graph {
  return loadOnnxFile(`${FIXTURE_DIR}/${file}`);
}

export function recipe(file: string): Recipe {
  const path = `${ROOT}recipes/${file}`;
  return parseRecipe(parseYaml(readFileSync(path, 'utf8')), `recipes/${file}`);
}

export function data(name: DatasetName) {
  return { train: loadDataset(name, 'train'), test: loadDataset(name, 'test') };
}

/** Test accuracy of the graph as nnzip's runtime runs it (not the trainer's forward pass). */
export async function accuracy(graph: Graph, name: DatasetName): Promise<number> {
  return (await sessionAccuracy(graph, loadDataset(name, 'test'))).accuracy;
}

export const pct = (a: number | undefined): string => (a === undefined ? '-' : `${(100 * a).toFixed(2)}%`);

export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}
