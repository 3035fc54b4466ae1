// Node-only: the compilers and tools that build and measure emitted C. Native
// builds use the host `gcc`; the Cortex-M4 build uses Debian's gcc-arm-none-eabi
// with picolibc and runs under qemu-system-arm (board mps2-an386, semihosting).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fail } from '../../../ir/errors.js';

/** The portability contract: the emitted C builds warning-free with these. */
export const STRICT_FLAGS = ['-std=c99', '-O2', '-Wall', '-Wextra', '-Werror'];
export const M4_FLAGS = ['-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16'];

/** The Debian package of each tool, for the error message when it is missing. */
const PACKAGES: Record<string, string> = {
  gcc: 'gcc', 'arm-none-eabi-gcc': 'gcc-arm-none-eabi picolibc-arm-none-eabi', 'arm-none-eabi-size': 'gcc-arm-none-eabi',
  'arm-none-eabi-nm': 'gcc-arm-none-eabi', 'qemu-system-arm': 'qemu-system-arm',
};

export function hasTool(cmd: string): boolean {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

/** Runs a tool; a failure throws with its stderr (a compile error in emitted C is nnzip's bug: exit 1). */
export function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number; stderr?: boolean } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    fail(`${cmd} is not installed; install the Debian package ${PACKAGES[cmd] ?? cmd} (apt-get install ${PACKAGES[cmd] ?? cmd})`);
  }
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}${r.stdout}`);
  }
  return opts.stderr ? r.stdout + r.stderr : r.stdout;
}

/** Native executable of NAME.c + main.c in `dir` (named NAME_SUFFIX). */
export function buildNative(dir: string, name: string, flags: string[] = STRICT_FLAGS, defines: string[] = [], suffix = 'native'): string {
  const exe = join(dir, `${name}_${suffix}`);
  run('gcc', [...flags, ...defines.map((d) => `-D${d}`), '-o', exe, `${name}.c`, 'main.c', '-lm'], { cwd: dir });
  return exe;
}

/** The Cortex-M4 object NAME.o (one section per function and array) and its stack usage file NAME.su. */
export function buildM4Object(dir: string, name: string): { obj: string; su: string } {
  run('arm-none-eabi-gcc', [...STRICT_FLAGS, ...M4_FLAGS, '-ffunction-sections', '-fdata-sections', '-fstack-usage', '-c', `${name}.c`, '-o', `${name}.o`], { cwd: dir });
  return { obj: join(dir, `${name}.o`), su: join(dir, `${name}.su`) };
}

/** Memory map of the mps2-an386 board: 4 MB code SRAM at 0, 4 MB data SRAM at 0x20000000 (64 KB of it the stack). */
const MPS2_MEMORY = 0x400000;
const MPS2_STACK = 0x10000;
const MPS2_AN386 = [
  '__flash=0x00000000', `__flash_size=${MPS2_MEMORY}`, '__ram=0x20000000', `__ram_size=${MPS2_MEMORY}`, `__stack_size=${MPS2_STACK}`,
];
/** Room the harness and picolibc keep beside the model in each memory. */
const MPS2_HARNESS = 0x10000;

/** Whether a model object of these sizes links for mps2-an386 (flash: text + data; RAM: data + bss + stack). */
export function fitsMps2(o: SectionSizes): boolean {
  return o.text + o.data <= MPS2_MEMORY - MPS2_HARNESS && o.data + o.bss <= MPS2_MEMORY - MPS2_STACK - MPS2_HARNESS;
}

/** A semihosted ELF of NAME.c + main.c for QEMU's mps2-an386 (picolibc, exit code passed through). */
export function buildM4Elf(dir: string, name: string, defines: string[]): string {
  const elf = join(dir, `${name}_m4.elf`);
  run('arm-none-eabi-gcc', [
    ...STRICT_FLAGS, ...M4_FLAGS, '--specs=picolibc.specs', '--oslib=semihost', '--crt0=hosted', '-T', 'picolibc.ld',
    ...MPS2_AN386.map((d) => `-Wl,--defsym=${d}`), ...defines.map((d) => `-D${d}`), '-o', elf, `${name}.c`, 'main.c', '-lm',
  ], { cwd: dir });
  return elf;
}

/** Runs an ELF on QEMU's Cortex-M4 board; returns what it printed (semihosting writes to QEMU's stderr). */
export function runQemu(elf: string, cwd: string, timeoutMs = 300_000): string {
  const args = ['-M', 'mps2-an386', '-nographic', '-monitor', 'none', '-semihosting-config', 'enable=on,target=native', '-kernel', elf];
  return run('qemu-system-arm', args, { cwd, timeoutMs, stderr: true });
}

export interface SectionSizes {
  text: number;
  data: number;
  bss: number;
}

/** `arm-none-eabi-size` of an object or ELF (Berkeley format: text includes read-only data). */
export function armSize(file: string): SectionSizes {
  const out = run('arm-none-eabi-size', ['-B', file]).trim().split('\n');
  const [text, data, bss] = out[out.length - 1].trim().split(/\s+/).map(Number);
  return { text, data, bss };
}

/** A symbol's C name: gcc's clones (\`f.constprop.0\`, \`f.isra.0\`) count as f. */
const baseName = (sym: string): string => sym.split('.')[0];

/** Sizes of the symbols of an object (`arm-none-eabi-nm -S`): functions and arrays by C name. */
export function armSymbols(file: string): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const line of run('arm-none-eabi-nm', ['-S', file]).split('\n')) {
    const m = /^[0-9a-f]+ ([0-9a-f]+) \w (\S+)$/.exec(line.trim());
    if (m) sizes.set(baseName(m[2]), (sizes.get(baseName(m[2])) ?? 0) + parseInt(m[1], 16));
  }
  return sizes;
}

/** Static stack frame of each function from a gcc `.su` file (`file:line:col:name\tbytes\tstatic`). */
export function parseStackUsage(text: string): Map<string, number> {
  const frames = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /:([A-Za-z_][\w.]*)\t(\d+)\t/.exec(line);
    if (m) frames.set(baseName(m[1]), Math.max(frames.get(baseName(m[1])) ?? 0, Number(m[2])));
  }
  return frames;
}
