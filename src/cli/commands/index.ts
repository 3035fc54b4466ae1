// The command table: `nnzip --help` lists these in this order.
import type { Command } from '../command.js';
import { demo } from './demo.js';
import { evalCommand } from './eval.js';
import { inspect } from './inspect.js';
import { validate } from './validate.js';
import { compress } from './compress.js';
import { binarize } from './binarize.js';
import { decompress } from './decompress.js';
import { sensitivityCommand } from './sensitivity.js';
import { report } from './report.js';
import { trainCommand } from './train.js';
import { finetune } from './finetune.js';
import { quantize } from './quantize.js';
import { compile } from './compile.js';

export const COMMANDS: Command[] = [demo, inspect, validate, evalCommand, trainCommand, finetune, compress, quantize, binarize, decompress, compile, sensitivityCommand, report];
