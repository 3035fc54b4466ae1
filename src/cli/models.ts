// Where the bundled models live (shipped in the package, located from this file).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/models/', import.meta.url));

export function bundledModel(file: string): string {
  return join(FIXTURES, file);
}
