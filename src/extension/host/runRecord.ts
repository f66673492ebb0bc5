// What the run store keeps for a fit, and the schemas (zod) a run read back must match before it is shown:
// a saved run may be from an older version, edited by hand or damaged. No vscode here, so it is unit-tested.
import { z } from 'zod';
import type { FitArgs } from './options';
import { FinalReportSchema, FitReportSchema, RfmOptionsSchema } from '../../core/rfm/serialize';
import type { FinalReport, FitReport } from '../../core/rfm/serialize';
import type { RfmOptions } from '../../core/rfm/types';
import type { Task } from '../../core/data/dataset';

/** The small part of a run the Runs tree and summary need; kept in its own file so listing is cheap. */
export interface RunMeta {
  runId: string;
  createdAt: string;
  dataset: { uri: string; name: string; sha256: string; bytes: number; rows: number; cols: number };
  target: string;
  task: Task;
  backend: string;
  device: string;
  /** The solver the fit used (direct, cg, eigenpro); absent in records written before solvers. */
  solver?: string;
  /** 'panel' (webview) or 'host' (extension host). */
  where: 'panel' | 'host';
  backendReason: string;
  final: FinalReport;
  seconds: number;
}

/** A saved fit: the meta, the arguments to re-run it, and the CLI's JSON of the result. */
export interface RunRecord {
  version: 1;
  meta: RunMeta;
  /** Command arguments as given (test file as a uri string) so a re-run reproduces the fit. */
  args: Omit<FitArgs, 'test'> & { test?: string };
  options: RfmOptions;
  valFraction: number;
  /** fitResultToJson(result): the same JSON `feature-lens fit --json` prints. */
  result: FitReport;
}

const runId = z.string().regex(/^[\w.-]+$/);

export const RunMetaSchema: z.ZodType<RunMeta, unknown> = z.looseObject({
  runId,
  createdAt: z.string(),
  dataset: z.looseObject({
    uri: z.string(),
    name: z.string(),
    sha256: z.string(),
    bytes: z.number().int().min(0),
    rows: z.number().int().min(0),
    cols: z.number().int().min(0),
  }),
  target: z.string(),
  task: z.enum(['classification', 'regression']),
  backend: z.string(),
  device: z.string(),
  solver: z.string().optional(),
  where: z.enum(['panel', 'host']),
  backendReason: z.string(),
  final: FinalReportSchema,
  seconds: z.number(),
});

/** The arguments as given: every one optional; only the ones a re-run reads are checked for their type. */
const RunArgsSchema = z.looseObject({
  target: z.union([z.string(), z.number().int().min(0)]).optional(),
  task: z.enum(['classification', 'regression']).optional(),
  impute: z.boolean().optional(),
  test: z.string().optional(),
  backend: z.enum(['auto', 'webgpu', 'cpu']).optional(),
  valFraction: z.number().min(0).max(1).optional(),
  seed: z.number().optional(),
  panel: z.boolean().optional(),
}) as unknown as z.ZodType<RunRecord['args']>;

export const RunRecordSchema: z.ZodType<RunRecord, unknown> = z
  .looseObject({
    version: z.literal(1),
    meta: RunMetaSchema,
    args: RunArgsSchema,
    options: RfmOptionsSchema,
    valFraction: z.number().min(0).max(1),
    result: FitReportSchema,
  })
  .refine((r) => r.meta.task === r.result.task, {
    message: 'meta.task differs from result.task',
    path: ['meta', 'task'],
  });
