// Schemas (zod) of what each view keeps across reloads, checked where the extension revives the view: a state
// VS Code hands back may come from an older version or be damaged, and is used only after it parses.
// The types stay in the view's protocol file; these schemas live apart so the pages' bundles do not take zod.
import { z } from 'zod';
import type { CollapsePanelState } from './collapse';
import type { ConvRfmPanelState } from './convrfm';
import type { LogsPanelState } from './logs';
import type { NfaFormChoices, NfaPanelState } from './nfa';
import type { NfaLabEpoch, NfaLabPanelState, NfaLabSettings } from './nfaLab';
import type { PanelState } from './rfm';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const target = z.union([z.string(), z.number().int().min(0)]);

/** The RFM panel: a saved run's id (a file name in the run store) or none. */
export const RfmPanelStateSchema: z.ZodType<PanelState> = z.looseObject({
  runId: z
    .string()
    .regex(/^[\w.-]+$/)
    .nullable(),
});

export const NfaPanelStateSchema: z.ZodType<NfaPanelState> = z.looseObject({
  title: z.string(),
  weightsLabel: z.string().optional(),
  weights: z.string(),
  data: z.string(),
  target,
  activation: z.string(),
  layers: z.array(z.string()),
  init: z.string().nullable(),
  // Absent in states written before these fields existed: read as they were then (off, no focus).
  standardize: z.boolean().default(false),
  rfm: z.string(),
  rfmIters: z.number().int().min(0).optional(),
  rfmBandwidth: finite.positive().optional(),
  rfmRows: z.number().int().min(1).optional(),
  focus: z.string().nullable().default(null),
  // Conv networks only.
  arch: z.record(z.string(), z.unknown()).optional(),
  stride: z.number().int().min(1).optional(),
  padding: z.number().int().min(0).optional(),
  pool: z.string().optional(),
  // The Neural Collapse tab's held-out rows (absent before the tab existed: none).
  test: z.string().nullable().optional(),
});

/** The NFA form's choices remembered for a weights file (workspace state). */
export const NfaFormChoicesSchema: z.ZodType<NfaFormChoices> = z.looseObject({
  data: z.string().min(1),
  target: z.string(),
  activation: z.string(),
  layers: z.array(z.string()),
  init: z.string().nullable(),
  standardize: z.boolean(),
  rfm: z.string().min(1),
  test: z.string().nullable().optional(),
});

/** Settings a lab saved: each may be missing (the lab fills it from its defaults). */
const NfaLabSettingsSchema: z.ZodType<Partial<NfaLabSettings>> = z.looseObject({
  task: z.enum(['dataset', 'modular']).optional(),
  op: z.enum(['add', 'sub', 'mul', 'div']).optional(),
  p: z.number().int().min(2).optional(),
  trainFrac: finite.gt(0).lt(1).optional(),
  width: z.number().int().min(1).optional(),
  depth: z.number().int().min(1).optional(),
  activation: z.string().optional(),
  optimizer: z.enum(['sgd', 'adam', 'adamw']).optional(),
  lr: finite.positive().optional(),
  weightDecay: finite.min(0).optional(),
  bias: z.boolean().optional(),
  batch: z.number().int().min(1).optional(),
  epochs: z.number().int().min(1).optional(),
  seed: z.number().int().optional(),
});

/** Loss and correlations may be NaN (written as null by JSON) when training diverged. */
const maybeNumber = z.number().nullable();
const NfaLabEpochSchema: z.ZodType<NfaLabEpoch> = z.looseObject({
  epoch: z.number().int().min(0),
  loss: maybeNumber,
  layers: z.array(z.looseObject({ name: z.string(), pearsonSqrt: maybeNumber, pearson: maybeNumber })),
  trainAccuracy: maybeNumber.optional(),
  testAccuracy: maybeNumber.optional(),
  testLoss: maybeNumber.optional(),
}) as unknown as z.ZodType<NfaLabEpoch>;

/** A lab state as revived: settings may be partial; what is missing takes the lab's defaults. */
export type RevivedNfaLabState = Omit<NfaLabPanelState, 'settings'> & { settings: Partial<NfaLabSettings> };
export const NfaLabPanelStateSchema: z.ZodType<RevivedNfaLabState> = z.looseObject({
  data: z.string().nullable().default(null),
  target: target.nullable().default(null),
  settings: NfaLabSettingsSchema,
  epochs: z.array(NfaLabEpochSchema).default([]),
  total: z.number().int().min(0).default(0),
  trained: z.string().nullable().default(null),
  message: z.string().default(''),
});

/** The ConvRFM view: its image file and the options it was fitted with (checked again by the fit). */
export const ConvRfmPanelStateSchema: z.ZodType<ConvRfmPanelState> = z.looseObject({
  title: z.string(),
  data: z.string().min(1),
  args: z.record(z.string(), z.unknown()),
});

export const LogsPanelStateSchema: z.ZodType<LogsPanelState> = z.looseObject({
  requested: z.string().min(1),
  column: z.string().nullable(),
});

/** A collapse view (Deep RFM, or collapse over checkpoints): its inputs as URIs. */
export const CollapsePanelStateSchema: z.ZodType<CollapsePanelState> = z.looseObject({
  kind: z.enum(['deepRfm', 'checkpoints']),
  title: z.string(),
  data: z.string().min(1),
  target,
  depth: z.number().int().min(1).optional(),
  width: z.number().int().min(1).optional(),
  bandwidth: finite.positive().optional(),
  seed: z.number().int().min(0).optional(),
  weights: z.array(z.string().min(1)).optional(),
  activation: z.string().optional(),
  test: z.string().nullable().optional(),
});

/** The state if it matches its schema, else undefined (the view then starts as if it had none). */
export function parseState<T>(schema: z.ZodType<T>, state: unknown): T | undefined {
  const r = schema.safeParse(state);
  return r.success ? r.data : undefined;
}

/** Why a state was refused, one line for the log. */
export function stateProblem(schema: z.ZodType<unknown>, state: unknown): string | undefined {
  const r = schema.safeParse(state);
  if (r.success) return undefined;
  const i = r.error.issues[0];
  return `${i.path.map(String).join('.') || '(state)'}: ${i.message}`;
}
