/** document.createElement with attributes and text in one call (every view builds its DOM with it). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A titled card holding one chart: section#card-<id>, its canvas#<id> named by the title for screen readers. */
export function chartCard(id: string, title: string): { card: HTMLElement; canvas: HTMLCanvasElement } {
  const card = el('section', { class: 'card', id: `card-${id}` });
  const wrap = el('div', { class: 'chartwrap' });
  const canvas = el('canvas', { id, role: 'img', 'aria-label': title });
  wrap.append(canvas);
  card.append(el('h3', {}, title), wrap);
  return { card, canvas };
}
