/**
 * Diagnostics — the lecture's lessons made visible: per-layer activation statistics of one forward
 * pass, statistics recorded during training, the initialization experiment, and the report pages.
 */
export { activationStats, formatStats } from './activations';
export type { LayerStats } from './activations';
export { StatsRecorder, chooseRange } from './recorder';
export type { StatsRecorderOptions, StatsJSON, StepRecord, LayerStepStats, ParamStepStats } from './recorder';
export { initExperiment, compareInits, LECTURE_CASES } from './experiment';
export type { InitExperimentOptions, InitExperimentCase, InitExperimentResult, InitLayerResult, InitName } from './experiment';
export { report } from './report';
export type { ReportOptions, ReportResult } from './report';
export { initReport } from './init-report';
export type { InitReportOptions } from './init-report';
export { saveRun, loadRun } from './run-file';
export type { RunFile } from './run-file';
