// The message box and its buttons. Enter sends, Shift+Enter is a new line, Escape stops a running turn.
// The draft survives the view being hidden (webview state), so nothing typed is lost.
import type { HostApi } from './vscodeApi';
import { el, icon } from './dom';

export class Composer {
  readonly element = el('form', 'composer');
  private readonly input = el('textarea', 'message-input');
  private readonly send = el('button', 'primary-button send-button');
  private readonly stop = el('button', 'secondary-button stop-button');
  private busy = false;

  constructor(private readonly host: HostApi) {
    this.input.setAttribute('aria-label', 'Message');
    this.input.placeholder = 'Ask the agent… (Enter to send, Shift+Enter for a new line)';
    this.input.rows = 3;
    this.input.value = host.loadState().draft;
    this.send.type = 'submit';
    this.send.append(icon('send'), el('span', '', 'Send'));
    this.send.setAttribute('aria-label', 'Send');
    this.stop.type = 'button';
    this.stop.append(icon('debug-stop'), el('span', '', 'Stop'));
    this.stop.setAttribute('aria-label', 'Stop');
    this.stop.hidden = true;
    const buttons = el('div', 'composer-buttons');
    buttons.append(this.stop, this.send);
    this.element.append(this.input, buttons);

    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      } else if (event.key === 'Escape' && this.busy) {
        event.preventDefault();
        this.host.post({ type: 'stop' });
      }
    });
    this.input.addEventListener('input', () => this.host.saveState({ draft: this.input.value }));
    this.stop.addEventListener('click', () => {
      this.host.post({ type: 'stop' });
      this.input.focus();
    });
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    const stopHadFocus = document.activeElement === this.stop;
    this.stop.hidden = !busy;
    this.send.disabled = busy;
    this.element.classList.toggle('busy', busy);
    if (stopHadFocus) this.input.focus();
  }

  focus(): void {
    this.input.focus();
  }

  private submit(): void {
    const text = this.input.value.trim();
    if (!text || this.busy) return;
    this.host.post({ type: 'send', text });
    this.input.value = '';
    this.host.saveState({ draft: '' });
    this.input.focus();
  }
}
