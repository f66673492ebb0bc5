// Training-log reading (CSV, JSONL, TensorBoard), loss-column choice, spike detection, live following.
export type { LogKind, LogProblem, LogReader, PushResult, ScalarPoint } from './types';
export { checkLogSize, createLogReader, logKindOf, readLog, mergeEventFiles } from './readers';
export type { LogContents } from './readers';
export { rankLossColumns, chooseLossColumn, seriesOf } from './columns';
export type { ColumnCandidate, ColumnChoice, Series } from './columns';
export { SpikeDetector, detectSpikes, DEFAULT_SPIKE_PARAMS, seriesProblems } from './spikes';
export type { Spike, SpikeParams } from './spikes';
export { LogFollower } from './follow';
export type { FileSource, FollowOptions, FollowUpdate, FollowColumn } from './follow';
