// Optional npm packages (package.json peerDependencies marked optional): the ONNX
// oracle and the MNIST data are loaded only by the commands that need them, so the
// library installs light. A missing one is one error line naming what to install.
import { fail } from './errors.js';

/** Fails with the one line that says which package to install and what needs it (`install`: all it takes). */
export function missingPackage(pkg: string, purpose: string, install = pkg): never {
  fail(`${purpose} needs the npm package ${pkg}, which is not installed; run \`npm install ${install}\``);
}

/** True when `e` says `pkg` itself cannot be found (not a failure inside it). */
export function isPackageMissing(e: unknown, pkg: string): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return new RegExp(`['"]${pkg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/[^'"]*)?['"]`).test(String((e as Error).message));
}

/** Imports an optional package on first use; `install` names everything the purpose takes. */
export async function importOptional<T>(pkg: string, purpose: string, install = pkg): Promise<T> {
  try {
    return (await import(pkg)) as T;
  } catch (e) {
    if (isPackageMissing(e, pkg)) missingPackage(pkg, purpose, install);
    throw e;
  }
}
