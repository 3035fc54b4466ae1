// Where the bundled models and recipes live (shipped in the package, located from this file).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function bundledModel(file: string): string {
  return join(ROOT, 'fixtures/models', file);
}

export function bundledRecipe(file: string): string {
  return join(ROOT, 'recipes', file);
}
