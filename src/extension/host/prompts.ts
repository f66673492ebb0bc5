import * as vscode from 'vscode';
import type { Task } from '../../core/data/dataset';
import { DATASET_EXTENSIONS } from '../../core/data/index';
import { toUri } from './datasetFile';
import type { FitArgs } from './options';
import { datasetExtensions, settingsBackend, settingsRfmOptions, settingsValFraction } from './options';
import { rfmOptionProblem } from '../../core/rfm/options';
import type { RfmOptions } from '../../core/rfm/types';

export interface ColumnInfo {
  name: string;
  kind: 'numeric' | 'categorical';
}

/** Asks for the target column, proposing the suggested one. `advanced` when the gear button was used. */
export async function pickTarget(
  fileName: string,
  columns: ColumnInfo[],
  suggested: string,
  suggestedTask: Task,
): Promise<{ target: string; advanced: boolean } | undefined> {
  const gear: vscode.QuickInputButton = {
    iconPath: new vscode.ThemeIcon('gear'),
    tooltip: 'Fit with advanced options…',
  };
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem>();
  qp.title = `Fit RFM on ${fileName}`;
  qp.placeholder = `Target column (proposed: ${suggested}, ${suggestedTask}). Enter fits; the gear opens every option.`;
  const ordered = [...columns.filter((c) => c.name === suggested), ...columns.filter((c) => c.name !== suggested)];
  const advancedItem: vscode.QuickPickItem = {
    label: '$(gear) Advanced options…',
    description: 'every option of feature-lens fit',
    alwaysShow: true,
  };
  qp.items = [
    ...ordered.map((c) => ({
      label: c.name,
      description: c.name === suggested ? `${c.kind} · proposed` : c.kind,
      buttons: [gear],
    })),
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    advancedItem,
  ];
  qp.buttons = [gear];
  qp.matchOnDescription = false;
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: { target: string; advanced: boolean } | undefined) => {
      if (done) return;
      done = true;
      resolve(v);
      qp.dispose();
    };
    let advancedMode = false;
    qp.onDidAccept(() => {
      const item = qp.selectedItems[0] ?? qp.activeItems[0];
      if (!item) return;
      if (item === advancedItem) {
        // Same list without the entry: the next choice is the target, then the options follow.
        advancedMode = true;
        qp.items = qp.items.filter((i) => i !== advancedItem && i.kind !== vscode.QuickPickItemKind.Separator);
        qp.placeholder = 'Target column (advanced options follow)';
        qp.value = '';
        return;
      }
      finish({ target: item.label, advanced: advancedMode });
    });
    qp.onDidTriggerItemButton((e) => finish({ target: e.item.label, advanced: true }));
    qp.onDidTriggerButton(() => {
      const item = qp.activeItems[0];
      if (item) finish({ target: item.label, advanced: true });
    });
    qp.onDidHide(() => finish(undefined));
    qp.show();
  });
}

type Step =
  | { key: keyof FitArgs; title: string; kind: 'pick'; choices: { label: string; value: unknown; detail?: string }[] }
  /** A number checked as the option's own parser checks it. */
  | { key: keyof RfmOptions | 'valFraction'; title: string; kind: 'number' };

/** Walks through every option of `feature-lens fit`; undefined when the user escapes. */
export async function askAdvanced(suggestedTask: Task): Promise<FitArgs | undefined> {
  const d = settingsRfmOptions();
  const yesNo = (on: boolean) =>
    [
      { label: on ? 'yes (default)' : 'yes', value: true },
      { label: on ? 'no' : 'no (default)', value: false },
    ].sort((a) => (a.value === on ? -1 : 1));
  const steps: Step[] = [
    {
      key: 'task',
      title: 'Task',
      kind: 'pick',
      choices: [
        { label: suggestedTask, value: suggestedTask, detail: 'inferred from the target column' },
        {
          label: suggestedTask === 'classification' ? 'regression' : 'classification',
          value: suggestedTask === 'classification' ? 'regression' : 'classification',
        },
      ],
    },
    {
      key: 'kernel',
      title: 'Kernel',
      kind: 'pick',
      choices: [d.kernel, d.kernel === 'laplace' ? 'gaussian' : 'laplace'].map((k) => ({ label: k, value: k })),
    },
    { key: 'bandwidth', title: 'Bandwidth L', kind: 'number' },
    { key: 'reg', title: 'Ridge (reg)', kind: 'number' },
    { key: 'iters', title: 'Iterations T', kind: 'number' },
    { key: 'diag', title: 'Diagonal M only?', kind: 'pick', choices: yesNo(d.diag) },
    { key: 'centerGrads', title: 'Centre gradients?', kind: 'pick', choices: yesNo(d.centerGrads) },
    {
      key: 'agopPower',
      title: 'M = AGOP^power',
      kind: 'pick',
      choices: [d.agopPower, d.agopPower === 1 ? 0.5 : 1].map((p) => ({ label: String(p), value: p })),
    },
    {
      key: 'normalize',
      title: 'Normalise M',
      kind: 'pick',
      choices: [d.normalize, d.normalize === 'max' ? 'none' : 'max'].map((p) => ({ label: p, value: p })),
    },
    { key: 'standardize', title: 'Standardise features?', kind: 'pick', choices: yesNo(d.standardize) },
    {
      key: 'earlyStop',
      title: 'Early stopping (the round chosen on 20% of the training rows set aside, not the validation rows)?',
      kind: 'pick',
      choices: yesNo(d.earlyStop),
    },
    { key: 'agopSamples', title: 'AGOP over at most this many training points', kind: 'number' },
    {
      key: 'impute',
      title: 'Fill missing feature values (training mean / most frequent)?',
      kind: 'pick',
      choices: yesNo(false),
    },
    { key: 'valFraction', title: 'Validation fraction (when no test file)', kind: 'number' },
    { key: 'seed', title: 'Seed', kind: 'number' },
    {
      key: 'backend',
      title: 'Backend',
      kind: 'pick',
      choices: ['auto', 'webgpu', 'cpu']
        .sort((a) => (a === settingsBackend() ? -1 : 1))
        .map((b) => ({ label: b, value: b })),
    },
  ];
  const defaults: Record<string, unknown> = { ...d, valFraction: settingsValFraction() };
  const out: FitArgs = {};
  for (const [i, step] of steps.entries()) {
    const title = `Advanced options (${i + 1}/${steps.length + 1}): ${step.title}`;
    if (step.kind === 'pick') {
      const item = await askChoice(title, step.choices);
      if (!item) return undefined;
      (out as Record<string, unknown>)[step.key] = item.value;
    } else {
      const value = await askNumber(title, String(defaults[step.key]), (s) => rfmOptionProblem(step.key, s));
      if (value === undefined) return undefined;
      (out as Record<string, unknown>)[step.key] = value;
    }
  }
  const test = await vscode.window.showQuickPick(
    [
      { label: 'No test file', detail: 'hold out the validation fraction', pick: false },
      { label: 'Choose a test file…', pick: true },
    ],
    { title: `Advanced options (${steps.length + 1}/${steps.length + 1}): Test set`, ignoreFocusOut: true },
  );
  if (!test) return undefined;
  if (test.pick) {
    const files = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Use as Test Set',
      filters: { Datasets: datasetFilter() },
    });
    if (!files?.length) return undefined;
    out.test = files[0];
  }
  return out;
}

/** One choice of an option walk; undefined when the user escapes. */
export async function askChoice<T>(
  title: string,
  choices: { label: string; value: T; detail?: string }[],
): Promise<{ label: string; value: T } | undefined> {
  return vscode.window.showQuickPick(
    choices.map((c) => ({ ...c, label: String(c.label) })),
    { title, ignoreFocusOut: true },
  );
}

/**
 * One number of an option walk, checked as it is typed by the option's own parser (`problem` says what
 * it expects instead, or undefined when the text is fine); undefined when the user escapes.
 */
export async function askNumber(
  title: string,
  value: string,
  problem: (text: string) => string | undefined,
): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title,
    value,
    ignoreFocusOut: true,
    validateInput: (s) => {
      const want = problem(s);
      return want && `expected ${want}`;
    },
  });
  return text === undefined ? undefined : Number(text);
}

export function datasetFilter(): string[] {
  const fromCore: readonly string[] = DATASET_EXTENSIONS;
  return [...new Set([...fromCore, ...datasetExtensions()].map((e) => e.replace(/^\./, '')))];
}

/** How a dataset picker is worded for the flow that asks. */
export interface DatasetPrompt {
  title: string;
  placeHolder: string;
  /** The open dialog's button. */
  openLabel: string;
}

const FIT_PROMPT: DatasetPrompt = { title: 'Fit RFM on Dataset', placeHolder: 'Dataset file', openLabel: 'Fit RFM' };

/** A dataset file: one of the workspace's (the Datasets tree's list), or any file through the open dialog. */
export async function pickDatasetFile(prompt: DatasetPrompt = FIT_PROMPT): Promise<vscode.Uri | undefined> {
  const glob = `**/*.{${datasetFilter().join(',')}}`;
  const found = await vscode.workspace.findFiles(glob, '**/{node_modules,.git}/**', 500);
  const browse = { label: '$(folder-opened) Browse…', uri: undefined as vscode.Uri | undefined };
  const items = [
    ...found
      .sort((a, b) => a.path.localeCompare(b.path))
      .map((uri) => ({ label: vscode.workspace.asRelativePath(uri, false), uri })),
    browse,
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: prompt.title,
    placeHolder: prompt.placeHolder,
    ignoreFocusOut: true,
  });
  if (!pick) return undefined;
  if (pick.uri) return pick.uri;
  const files = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: prompt.openLabel,
    filters: { Datasets: datasetFilter() },
  });
  return files?.[0];
}

/** The file a command was given (a Uri, or a path from a script or test), else one picked with `prompt`. */
export async function datasetUriOf(arg: unknown, prompt: DatasetPrompt): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri || typeof arg === 'string') return toUri(arg);
  return pickDatasetFile(prompt);
}

/** The target column, the proposed one first; undefined when the user backs out. */
export async function pickTargetColumn(
  info: { columns: ColumnInfo[]; suggestedTarget: string },
  title: string,
  placeHolder?: string,
): Promise<string | undefined> {
  const ordered = [
    ...info.columns.filter((c) => c.name === info.suggestedTarget),
    ...info.columns.filter((c) => c.name !== info.suggestedTarget),
  ];
  const pick = await vscode.window.showQuickPick(
    ordered.map((c) => ({
      label: c.name,
      description: c.name === info.suggestedTarget ? `${c.kind} · proposed` : c.kind,
    })),
    { title, placeHolder, ignoreFocusOut: true },
  );
  return pick?.label;
}
