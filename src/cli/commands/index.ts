// The command table: `nnzip --help` lists these in this order.
import type { Command } from '../command.js';
import { demo } from './demo.js';
import { evalCommand } from './eval.js';
import { inspect } from './inspect.js';
import { validate } from './validate.js';

export const COMMANDS: Command[] = [demo, inspect, validate, evalCommand];
