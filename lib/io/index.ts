/** Checkpoints (safetensors, the whole model in one file), the layer registry and ONNX export. */
export { encodeSafetensors, decodeSafetensors, parseSafetensors, MAX_HEADER } from './safetensors';
export type { RawTensor, WritableTensor, DecodedTensor } from './safetensors';
export { atomicWrite, removeStaleTemporaries } from './atomic';
export { saveModel, loadModel, loadCheckpoint, loadWeights, encodeModel, FORMAT_VERSION } from './checkpoint';
export type { SaveOptions, LoadOptions, Checkpoint, LoadReport } from './checkpoint';
export type { TrainerState } from './state';
export { registerLayer, registeredLayers, layerFromConfig, sequentialFromConfig } from './registry';
export type { LayerClass } from './registry';
export { ModelCheckpoint } from './checkpoint-callback';
export type { ModelCheckpointOptions } from './checkpoint-callback';
export { exportOnnx, encodeOnnx, ONNX_LAYERS } from './onnx/export';
export type { OnnxOptions } from './onnx/export';
