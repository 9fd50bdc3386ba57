/**
 * A prediction service over HTTP (node:http): it loads a checkpoint written by the MNIST example
 * (`npm run mnist -- --save mnist.safetensors`) — the architecture, weights and input
 * standardization all come from the file — and serves it from an InferencePool that micro-batches
 * concurrent requests on worker threads, so the event loop only parses and answers.
 *
 *   npx tsx examples/serve.ts --checkpoint mnist.safetensors [--port 8080] [--host 127.0.0.1]
 *        [--workers 1] [--max-batch 32] [--max-delay-ms 1]
 *
 *   POST /predict  application/json {"input": [784 numbers]} (or nested [1][28][28]) for one image,
 *                  {"inputs": [[...], ...]} for a batch; or application/octet-stream: raw float32
 *                  little-endian values, N × 784 of them. Answer: {"labels": [...], "outputs": [[...]]}.
 *   POST /train    {"inputs": [[...]], "labels": [...], "epochs"?: n}: trains a copy of the served
 *                  model off the main thread and swaps the served weights atomically when done (202).
 *   GET  /healthz  {"status": "ok", ...pool statistics}
 * Bad input (wrong size or type, NaN, a body or batch over its limit) gets a 4xx with a JSON
 * {"error": ...}; SIGTERM stops accepting connections, lets in-flight requests finish, then exits.
 * Bodies are read by serve-body.ts (raw float32 in one copy; JSON numbers straight from the bytes,
 * JSON.parse for anything else). A /train run is background work beside the pool (a lower thread
 * priority, fewer kernel threads, pauses while requests wait; see InferencePool).
 */
import * as http from 'http';
import { parseArgs } from 'util';
import { AddressInfo } from 'net';
import { InferencePool, loadCheckpoint, fit, Adam, CrossEntropyLoss, Sequential, Tensor } from '../lib/index';
import { floatsRaw, numbersJson } from './serve-body';

export interface ServiceOptions {
  checkpoint: string;
  port?: number;
  host?: string;
  workers?: number;
  maxBatch?: number;
  maxDelayMs?: number;
  /** Largest request body in bytes. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Most samples in one /train request. Default 60,000. */
  maxTrainSamples?: number;
  /** Off-thread training in this process gives way to inference (InferencePool). Default true. */
  backgroundTraining?: boolean;
}

export interface Service {
  server: http.Server;
  pool: InferencePool;
  port: number;
  /** Stops accepting, finishes in-flight requests, ends the workers. */
  close(): Promise<void>;
}

type Transform = { transform(x: Tensor): Tensor };

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new HttpError(413, `body of ${declared} bytes is over the limit of ${limit}`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new HttpError(413, `body over the limit of ${limit} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    // a body that came in one chunk (most do) is used as it is, not copied
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Flattens nested number arrays, checking every value; throws HttpError 400 on anything else. */
function flatten(v: unknown, out: number[], where: string): void {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) flatten(v[i], out, `${where}[${i}]`);
  } else if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  else throw new HttpError(400, `expected finite numbers in ${where}, got ${JSON.stringify(v) ?? typeof v}`);
}

/** The request's samples as one Float32Array of n × inSize values. */
function samplesOf(req: http.IncomingMessage, body: Buffer, inSize: number, maxBatch: number): { data: Float32Array; n: number } {
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim();
  let data: Float32Array;
  if (type === 'application/octet-stream') {
    if (body.length === 0 || body.length % (inSize * 4) !== 0) throw new HttpError(400, `expected a multiple of ${inSize} float32 values (${inSize * 4} bytes each sample), got ${body.length} bytes`);
    const raw = floatsRaw(body);
    if (typeof raw === 'number') throw new HttpError(400, `expected finite values, got ${body.readFloatLE(raw * 4)} at index ${raw}`);
    data = raw;
  } else if (type === 'application/json') {
    data = fastJson(body, inSize) ?? genericJson(body, inSize);
  } else throw new HttpError(415, `expected Content-Type application/json or application/octet-stream, got '${type}'`);
  const n = data.length / inSize;
  if (n > maxBatch) throw new HttpError(413, `expected at most ${maxBatch} samples in one request, got ${n}`);
  return { data, n };
}

/** The common bodies, read straight from the bytes (serve-body.ts); null for anything else. */
function fastJson(body: Buffer, inSize: number): Float32Array | null {
  const r = numbersJson(body, inSize);
  if (!r) return null;
  const n = r.values.length;
  return (r.key === 'input' ? n === inSize : n > 0 && n % inSize === 0) ? r.values : null;
}

/** Any JSON body through JSON.parse, with an error that says what is wrong. */
function genericJson(body: Buffer, inSize: number): Float32Array {
  let json: { input?: unknown; inputs?: unknown };
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
  if (!json || typeof json !== 'object' || (json.input === undefined) === (json.inputs === undefined)) throw new HttpError(400, 'expected an object with "input" (one sample) or "inputs" (a batch)');
  if (json.inputs !== undefined && !Array.isArray(json.inputs)) throw new HttpError(400, '"inputs" must be an array of samples');
  const values: number[] = [];
  flatten(json.input ?? json.inputs, values, json.input !== undefined ? 'input' : 'inputs');
  if (json.input !== undefined && values.length !== inSize) throw new HttpError(400, `expected ${inSize} values in "input", got ${values.length}`);
  if (values.length === 0 || values.length % inSize !== 0) throw new HttpError(400, `expected samples of ${inSize} values in "inputs", got ${values.length} values`);
  const data = Float32Array.from(values);
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) throw new HttpError(400, `expected values within float32 range, got ${data[i]} at index ${i}`);
  return data;
}

function argmaxRows(out: Tensor): { labels: number[]; outputs: number[][] } {
  const k = out.shape[out.shape.length - 1];
  const labels: number[] = [];
  const outputs: number[][] = [];
  for (let i = 0; i < out.shape[0]; i++) {
    const row = Array.from(out.data.subarray(i * k, (i + 1) * k));
    let best = 0;
    for (let j = 1; j < k; j++) if (row[j] > row[best]) best = j;
    labels.push(best);
    outputs.push(row);
  }
  return { labels, outputs };
}

/** A /train body, checked: samples (n × inSize values), their labels, the epochs. */
function trainRequest(body: Buffer, inSize: number, classes: number, maxSamples: number): { x: Float32Array; labels: Int32Array; epochs: number } {
  let json: { inputs?: unknown; labels?: unknown; epochs?: unknown };
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
  if (!json || !Array.isArray(json.inputs) || !Array.isArray(json.labels)) throw new HttpError(400, 'expected {"inputs": [[...]], "labels": [...]}');
  const values: number[] = [];
  flatten(json.inputs, values, 'inputs');
  const n = json.labels.length;
  if (n === 0 || n > maxSamples || values.length !== n * inSize) throw new HttpError(400, `expected one sample of ${inSize} values per label (1 to ${maxSamples}), got ${values.length} values for ${n} labels`);
  if (!(json.labels as unknown[]).every((l) => Number.isInteger(l) && (l as number) >= 0 && (l as number) < classes)) throw new HttpError(400, `expected class labels between 0 and ${classes - 1}`);
  const epochs = json.epochs === undefined ? 1 : Number(json.epochs);
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 100) throw new HttpError(400, 'expected "epochs" between 1 and 100');
  return { x: Float32Array.from(values), labels: Int32Array.from(json.labels as number[]), epochs };
}

/** Starts the service; resolves once it listens. */
export async function startService(o: ServiceOptions): Promise<Service> {
  const ck = loadCheckpoint(o.checkpoint);
  const preprocess = (ck.preprocess ?? []) as Transform[];
  const maxBatch = o.maxBatch ?? 32;
  const pool = await InferencePool.create({ model: ck.model, workers: o.workers ?? 1, maxBatchSize: maxBatch, maxDelayMs: o.maxDelayMs ?? 1, backgroundTraining: o.backgroundTraining ?? true });
  const inShape = [...pool.inputShape];
  const inSize = inShape.reduce((a, b) => a * b, 1);
  const limit = o.maxBodyBytes ?? 4 * 2 ** 20;
  const prep = (data: Float32Array, n: number): Tensor => preprocess.reduce((t, p) => p.transform(t), { data, shape: [n, ...inShape] } as Tensor);
  let trainer: Sequential | null = null;
  let served = ck.model;
  let closing = false;
  let trainings = 0;

  const predict = async (req: http.IncomingMessage): Promise<unknown> => {
    const { data, n } = samplesOf(req, await readBody(req, limit), inSize, maxBatch);
    const out = await pool.predict(prep(data, n));
    return argmaxRows(out);
  };

  const train = async (req: http.IncomingMessage): Promise<unknown> => {
    if (trainer) throw new HttpError(409, 'a training run is in progress');
    const classes = pool.outputShape[pool.outputShape.length - 1];
    const t = trainRequest(await readBody(req, limit), inSize, classes, o.maxTrainSamples ?? 60_000);
    // a copy of the weights served now, trained off the main thread, then swapped in
    const model = loadCheckpoint(o.checkpoint).model;
    model.loadStateDict(served.stateDict());
    trainer = model;
    const x = prep(t.x, t.labels.length);
    void fit(model, x, t.labels, { epochs: t.epochs, batchSize: Math.min(64, t.labels.length), loss: new CrossEntropyLoss(), optimizer: new Adam(model.parameters(), { lr: 1e-3 }), verbose: 0, offThread: true })
      .then(() => pool.swap(model))
      .then(() => {
        served = model;
        trainings++;
      })
      .catch((e) => console.error(`training failed: ${(e as Error).message}`))
      .finally(() => (trainer = null));
    return { status: 'training', samples: t.labels.length, epochs: t.epochs };
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    let status = 200;
    let body: unknown;
    try {
      const url = (req.url ?? '/').split('?')[0];
      if (closing) throw new HttpError(503, 'shutting down');
      if (url === '/healthz') {
        if (req.method !== 'GET') throw new HttpError(405, 'use GET');
        body = { status: 'ok', inputShape: inShape, training: trainer !== null, trainings, ...pool.stats() };
      } else if (url === '/predict' || url === '/train') {
        if (req.method !== 'POST') throw new HttpError(405, 'use POST');
        body = url === '/predict' ? await predict(req) : await train(req);
        if (url === '/train') status = 202;
      } else throw new HttpError(404, `no route ${url}`);
    } catch (e) {
      const overloaded = e instanceof RangeError && /queued samples/.test(e.message);
      status = e instanceof HttpError ? e.status : overloaded ? 503 : e instanceof RangeError || e instanceof TypeError ? 400 : 500;
      body = { error: (e as Error).message };
      if (status === 500) console.error(e);
    }
    const text = JSON.stringify(body);
    if (closing) res.setHeader('connection', 'close');
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const server = http.createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(o.port ?? 8080, o.host ?? '127.0.0.1', resolve));
  const close = async (): Promise<void> => {
    closing = true;
    const done = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    await done;
    await pool.close();
  };
  return { server, pool, port: (server.address() as AddressInfo).port, close };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      checkpoint: { type: 'string' },
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      workers: { type: 'string', default: '1' },
      'max-batch': { type: 'string', default: '32' },
      'max-delay-ms': { type: 'string', default: '1' },
    },
  });
  if (!values.checkpoint) throw new Error('--checkpoint FILE is required (write one with: npm run mnist -- --save mnist.safetensors)');
  const svc = await startService({
    checkpoint: values.checkpoint, port: Number(values.port), host: values.host, workers: Number(values.workers),
    maxBatch: Number(values['max-batch']), maxDelayMs: Number(values['max-delay-ms']),
  });
  console.log(`serving ${values.checkpoint} on http://${values.host}:${svc.port} (POST /predict, POST /train, GET /healthz)`);
  process.once('SIGTERM', () => {
    console.log('SIGTERM: finishing in-flight requests');
    svc.close().then(() => process.exit(0), (e) => {
      console.error(e);
      process.exit(1);
    });
  });
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
