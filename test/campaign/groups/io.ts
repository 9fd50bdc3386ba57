import * as os from 'os';
import * as path from 'path';
import { type Case } from '../case';
import { mb, mlp } from '../fixtures';

// Checkpoints, ONNX export and the layer registry: wrong kinds and missing files fail before any
// file is written or any model is built.
const missing = path.join(os.tmpdir(), 'minibatch-campaign-no-such-file.safetensors');
const detachedBytes = (): Uint8Array => {
  const a = new Uint8Array(8);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
};

const cases: Case[] = [
  { name: 'saveModel(null model)', run: () => mb.saveModel(null as never, missing), error: 'TypeError', names: 'for model' },
  { name: 'saveModel(model, 42)', run: () => mb.saveModel(mlp(), 42 as never), error: 'TypeError', names: 'for path' },
  { name: 'loadModel(42)', run: () => mb.loadModel(42 as never), error: 'TypeError', names: 'for path' },
  { name: 'loadModel(a missing file)', run: () => mb.loadModel(missing), error: 'RangeError', names: 'for path' },
  { name: 'loadModel(option typo)', run: () => mb.loadModel(missing, { strcit: true } as never), error: 'TypeError', names: "'strict'" },
  { name: 'loadCheckpoint(5)', run: () => mb.loadCheckpoint(5 as never), error: 'TypeError', names: 'for path' },
  { name: 'loadWeights(null model)', run: () => mb.loadWeights(null as never, missing), error: 'TypeError', names: 'for model' },
  { name: 'encodeSafetensors(null)', run: () => mb.encodeSafetensors(null as never), error: 'TypeError', names: 'for tensors' },
  { name: "decodeSafetensors('x')", run: () => mb.decodeSafetensors('x' as never), error: 'TypeError', names: 'for checkpoint' },
  { name: 'decodeSafetensors(null)', run: () => mb.decodeSafetensors(null as never), error: 'TypeError', names: 'for checkpoint' },
  { name: 'decodeSafetensors(an empty ArrayBuffer)', run: () => mb.decodeSafetensors(new ArrayBuffer(8) as never), error: 'RangeError', names: 'for checkpoint' },
  { name: 'decodeSafetensors(a detached buffer)', run: () => mb.decodeSafetensors(detachedBytes()), error: 'RangeError', names: 'for checkpoint' },
  { name: 'decodeSafetensors(7 bytes)', run: () => mb.decodeSafetensors(new Uint8Array(7)), error: 'RangeError', names: 'for checkpoint' },
  { name: "loadStateDict(strict: 'no')", run: () => { const m = mlp(); m.loadStateDict(m.stateDict(), { strict: 'no' } as never); }, error: 'TypeError', names: 'for strict' },
  { name: 'loadStateDict(option typo)', run: () => { const m = mlp(); m.loadStateDict(m.stateDict(), { strcit: true } as never); }, error: 'TypeError', names: "'strict'" },
  { name: 'exportOnnx(null model)', run: () => mb.exportOnnx(null as never, path.join(os.tmpdir(), 'minibatch-campaign.onnx')), error: 'TypeError', names: 'for model' },
  { name: 'registerLayer(5)', run: () => mb.registerLayer(5 as never), error: 'TypeError' },
  { name: 'layerFromConfig(null)', run: () => mb.layerFromConfig(null as never), error: 'TypeError', names: 'for config' },
  { name: 'sequentialFromConfig(5)', run: () => mb.sequentialFromConfig(5 as never), error: 'TypeError', names: 'for config' },
  { name: 'new ModelCheckpoint(null)', run: () => new mb.ModelCheckpoint(null as never), error: 'TypeError', names: 'ModelCheckpoint' },
];
export default cases;
