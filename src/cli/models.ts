// Where the bundled models, recipes and built browser files live (shipped in the package, located from this file).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function bundledModel(file: string): string {
  return join(ROOT, 'fixtures/models', file);
}

export function bundledRecipe(file: string): string {
  return join(ROOT, 'recipes', file);
}

/** The demo page `npm run build:web` writes (dist/browser/demo). */
export function builtDemoPage(): string {
  return join(ROOT, 'dist/browser/demo');
}
