// The DOM helpers every view uses: an element with a class and text, a decorative codicon, a labelled button.

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function icon(name: string, extra = ''): HTMLSpanElement {
  const span = el('span', `codicon codicon-${name}${extra ? ` ${extra}` : ''}`);
  span.setAttribute('aria-hidden', 'true');
  return span;
}

/** A button with a visible label (and an optional icon); its accessible name is the label. */
export function labelledButton(label: string, className: string, iconName?: string): HTMLButtonElement {
  const button = el('button', className);
  button.type = 'button';
  if (iconName) button.append(icon(iconName));
  button.append(el('span', '', label));
  return button;
}
