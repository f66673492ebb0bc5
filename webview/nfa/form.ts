// The NFA view's form: everything the NFA command needs in one step (data whose width fits the network,
// target, activation, layers, initial weights, standardise, RFM comparison). It sits above the results
// and folds away once they are drawn; Compute again redraws the same view.
import type { NfaForm, NfaFormChoices, NfaHostToWebview, NfaWebviewToHost } from '../../src/protocol/nfa';
import { el } from '../shared/dom';

type Columns = Extract<NfaHostToWebview, { type: 'columns' }>;
type Picked = Extract<NfaHostToWebview, { type: 'picked' }>;

export interface NfaFormView {
  readonly element: HTMLDetailsElement;
  set(form: NfaForm): void;
  columns(m: Columns): void;
  picked(m: Picked): void;
  /** Results are shown: fold the form, summarising what was computed. */
  computed(): void;
}

function field(label: string, control: HTMLElement, ...extra: HTMLElement[]): HTMLElement {
  const wrap = el('div', { class: 'field' });
  const id = control.id;
  wrap.append(el('label', { for: id }, label), control, ...extra);
  return wrap;
}

export function createForm(post: (m: NfaWebviewToHost) => void): NfaFormView {
  const details = el('details', { id: 'setup', class: 'nfa-form', open: '' });
  const summary = el('summary', {}, 'Network, data and comparison');
  const body = el('div', { class: 'form-grid' });
  const data = el('select', { id: 'nfa-data', 'aria-label': 'Dataset' });
  const browseData = el('button', { id: 'nfa-browse-data', class: 'secondary', type: 'button' }, 'Browse…');
  const dataNote = el('div', { class: 'status', id: 'nfa-data-note' }, '');
  const target = el('select', { id: 'nfa-target' });
  const targetNote = el('div', { class: 'status', id: 'nfa-target-note' }, '');
  const activation = el('select', { id: 'nfa-activation' });
  const layers = el('fieldset', { id: 'nfa-layers', class: 'layers' });
  const init = el('select', { id: 'nfa-init', 'aria-label': 'Initial weights' });
  const browseInit = el('button', { id: 'nfa-browse-init', class: 'secondary', type: 'button' }, 'Browse…');
  const standardizeBox = el('input', { id: 'nfa-standardize', type: 'checkbox' });
  const rfm = el('select', { id: 'nfa-rfm' });
  const test = el('select', { id: 'nfa-test', 'aria-label': 'Held-out dataset' });
  const browseTest = el('button', { id: 'nfa-browse-test', class: 'secondary', type: 'button' }, 'Browse…');
  const compute = el('button', { id: 'nfa-compute', type: 'button' }, 'Compute');
  const actions = el('div', { class: 'controls' });
  actions.append(compute);
  const standardizeField = el('div', { class: 'field check' });
  standardizeField.append(
    standardizeBox,
    el('label', { for: 'nfa-standardize' }, 'Standardise inputs (each column to mean 0, variance 1, as --standardize)'),
  );
  const dataRow = el('div', { class: 'row' });
  dataRow.append(data, browseData);
  const initRow = el('div', { class: 'row' });
  initRow.append(init, browseInit);
  const testRow = el('div', { class: 'row' });
  testRow.append(test, browseTest);
  body.append(
    field('Dataset (the rows the network is evaluated on)', dataRow, dataNote),
    field('Target column (the other columns are the inputs)', target, targetNote),
    field('Activation between the dense layers', activation),
    field('RFM to compare with NFM of the first layer', rfm),
    field('Initial weights (NFM = (W − W₀)ᵀ(W − W₀))', initRow),
    field('Held-out dataset for the Neural Collapse tab (optional, same columns)', testRow),
    standardizeField,
  );
  const layersWrap = el('div', { class: 'field wide' });
  layersWrap.append(layers);
  body.append(layersWrap);
  details.append(summary, body, actions);

  let form: NfaForm | null = null;
  /** The target to select once the dataset's columns arrive (remembered or given). */
  let wantTarget = '';

  const option = (value: string, text: string) => el('option', { value }, text);
  const requestColumns = () => {
    target.textContent = '';
    target.disabled = true;
    targetNote.textContent = data.value ? 'Reading the columns…' : '';
    if (data.value) post({ type: 'columns', data: data.value });
    update();
  };
  const update = () => {
    compute.disabled =
      !data.value || target.disabled || !target.value || (!!form?.layers.length && !selectedLayers().length);
  };
  const selectedLayers = () =>
    [...layers.querySelectorAll<HTMLInputElement>('input[type="checkbox"]')]
      .filter((c) => c.checked)
      .map((c) => c.value);
  const addData = (uri: string, label: string, columns: number | null) => {
    if (![...data.options].some((o) => o.value === uri))
      data.append(option(uri, columns === null ? `${label} (width not known from its first bytes)` : label));
    data.value = uri;
  };

  data.addEventListener('change', () => {
    wantTarget = '';
    requestColumns();
  });
  target.addEventListener('change', update);
  layers.addEventListener('change', update);
  browseData.addEventListener('click', () => post({ type: 'browse', what: 'data' }));
  browseInit.addEventListener('click', () => post({ type: 'browse', what: 'init' }));
  browseTest.addEventListener('click', () => post({ type: 'browse', what: 'test' }));
  compute.addEventListener('click', () => {
    if (!form || compute.disabled) return;
    const choices: NfaFormChoices = {
      data: data.value,
      target: target.value,
      activation: activation.value,
      layers: selectedLayers(),
      init: init.value || null,
      standardize: standardizeBox.checked,
      rfm: rfm.value,
      test: test.value || null,
    };
    post({ type: 'compute', choices });
  });

  return {
    element: details,
    set(f) {
      form = f;
      const c = f.choices;
      summary.textContent = `Network ${f.weights}${f.inputDim === null ? '' : ` (input width ${f.inputDim})`}, data and comparison`;
      data.textContent = '';
      data.append(option('', f.datasets.length ? 'Choose a dataset…' : 'No workspace dataset fits: Browse…'));
      for (const d of f.datasets) addData(d.uri, d.label, d.columns);
      data.value = '';
      if (c?.data) addData(c.data, c.data.replace(/^.*\//, ''), null);
      dataNote.textContent =
        f.inputDim === null
          ? 'A conv network: images flattened C,H,W (an .npz X of (N, C, H, W) carries its shape; else C from the first conv layer and square images) and a target, so every dataset is listed. No RFM comparison for a conv network.'
          : `Files with ${f.inputDim} input columns and a target${f.otherWidths ? `; ${f.otherWidths} workspace file${f.otherWidths > 1 ? 's' : ''} of other widths left out` : ''}.`;
      activation.textContent = '';
      for (const a of f.activations) activation.append(option(a, a === 'relu' ? 'relu (default)' : a));
      activation.value = c?.activation && f.activations.includes(c.activation) ? c.activation : 'relu';
      layers.textContent = '';
      layers.append(
        el(
          'legend',
          {},
          f.layers.length
            ? `Dense layers (${f.layerOrder} order)${f.ignored.length ? `; not in the chain: ${f.ignored.join(', ')}` : ''}`
            : 'Layers: every conv and dense layer of the declared architecture',
        ),
      );
      for (const l of f.layers) {
        const id = `nfa-layer-${l.name}`;
        const box = el('input', { id, type: 'checkbox', value: l.name });
        box.checked = !c || c.layers.includes(l.name);
        const lab = el('label', { for: id }, ` ${l.name} [${l.shape.join('×')}]${l.bias ? ` + ${l.bias}` : ''}`);
        const item = el('span', { class: 'layer' });
        item.append(box, lab);
        layers.append(item);
      }
      init.textContent = '';
      init.append(option('', 'None: NFM = WᵀW'));
      if (c?.init) {
        init.append(option(c.init, c.init.replace(/^.*\//, '')));
        init.value = c.init;
      }
      test.textContent = '';
      test.append(option('', 'None'));
      for (const d of f.datasets) test.append(option(d.uri, d.label));
      if (c?.test && ![...test.options].some((o) => o.value === c.test))
        test.append(option(c.test, c.test.replace(/^.*\//, '')));
      test.value = c?.test ?? '';
      standardizeBox.checked = c?.standardize ?? false;
      rfm.textContent = '';
      rfm.append(option('fit', 'Fit an RFM on the same rows'), option('none', 'No RFM comparison'));
      for (const r of f.runs) rfm.append(option(r.id, r.label));
      rfm.value = c?.rfm && [...rfm.options].some((o) => o.value === c.rfm) ? c.rfm : 'fit';
      wantTarget = c?.target ?? '';
      details.open = true;
      requestColumns();
      (data.value ? compute : data).focus();
    },
    columns(m) {
      if (m.data !== data.value) return;
      target.textContent = '';
      if (m.error) {
        targetNote.textContent = m.error;
        targetNote.className = 'status error';
        update();
        return;
      }
      targetNote.className = 'status';
      targetNote.textContent = '';
      for (const name of m.columns) target.append(option(name, name === m.suggested ? `${name} (proposed)` : name));
      target.value = m.columns.includes(wantTarget) ? wantTarget : m.suggested;
      target.disabled = false;
      update();
    },
    picked(m) {
      if (m.what === 'test') {
        if (![...test.options].some((o) => o.value === m.uri)) test.append(option(m.uri, m.label));
        test.value = m.uri;
        return;
      }
      if (m.what === 'init') {
        if (![...init.options].some((o) => o.value === m.uri)) init.append(option(m.uri, m.label));
        init.value = m.uri;
        return;
      }
      addData(m.uri, m.label, m.columns);
      if (m.columns !== null && form && form.inputDim !== null && m.columns - 1 !== form.inputDim)
        dataNote.textContent = `${m.label} has ${m.columns} columns; the network takes ${form.inputDim} inputs besides the target.`;
      wantTarget = '';
      requestColumns();
    },
    computed() {
      details.open = false;
      const layersShown = selectedLayers().length;
      summary.textContent = `Settings: ${data.selectedOptions[0]?.textContent ?? ''} → ${target.value} · ${activation.value} · ${layersShown} layer${layersShown > 1 ? 's' : ''}${init.value ? ' · minus initial weights' : ''}${standardizeBox.checked ? ' · standardised' : ''}${test.value ? ' · held-out data' : ''} (open to change and compute again)`;
    },
  };
}
