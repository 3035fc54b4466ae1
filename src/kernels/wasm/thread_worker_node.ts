// A worker_threads worker of NodeThreadPool: the pool's worker loop
// (thread_worker.ts), with modules read synchronously from its message port.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { PROTOCOL, type ModuleMessage, type WorkerInit } from './thread_protocol.js';
import { threadWorker } from './thread_worker.js';

const { port, ...init } = workerData as WorkerInit & { port: MessagePort };
const receive = (): ModuleMessage | undefined => receiveMessageOnPort(port)?.message as ModuleMessage | undefined;
if (threadWorker(init, PROTOCOL, receive).serve() === 'register') throw new Error('thread worker: register command without a module');
port.close();
