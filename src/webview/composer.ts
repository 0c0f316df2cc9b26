// The message box and its buttons. Enter sends, Shift+Enter is a new line, Escape stops a running turn.
// The draft survives the view being hidden (webview state), so nothing typed is lost.
// Edit and resend: the person's last message comes back into the box (its Edit button, or Up in an empty
// box); sending then replaces it and what followed. Escape or Cancel leaves the edit and restores the draft.
// The model picker beside the buttons sets this chat's model.
import type { ModelChoice } from '../shared/protocol';
import type { HostApi } from './vscodeApi';
import { el, icon, labelledButton } from './dom';

export interface EditableMessage {
  id: string;
  text: string;
}

export class Composer {
  readonly element = el('form', 'composer');
  private readonly input = el('textarea', 'message-input');
  private readonly send = el('button', 'primary-button send-button');
  private readonly sendLabel = el('span', '', 'Send');
  private readonly stop = el('button', 'secondary-button stop-button');
  private readonly model = el('select', 'model-picker');
  private readonly editBar = el('div', 'edit-bar');
  private busy = false;
  /** The message being edited, and the draft it displaced. */
  private editing: { message: EditableMessage; draft: string } | undefined;
  /** A resend on its way: its text stays in the box until the extension takes it (a refusal loses nothing). */
  private resending: { draft: string } | undefined;
  /** The person's last message, when it can still be edited (ChatView says). */
  lastMessage: (() => EditableMessage | undefined) | undefined;

  constructor(private readonly host: HostApi) {
    this.input.setAttribute('aria-label', 'Message');
    this.input.placeholder = 'Ask the agent… (Enter to send, Shift+Enter for a new line)';
    this.input.rows = 3;
    this.input.value = host.loadState().draft;
    this.send.type = 'submit';
    this.send.append(icon('send'), this.sendLabel);
    this.stop.type = 'button';
    this.stop.append(icon('debug-stop'), el('span', '', 'Stop'));
    this.stop.setAttribute('aria-label', 'Stop');
    this.stop.hidden = true;
    this.model.setAttribute('aria-label', 'Model');
    this.model.title = 'Model for this chat';
    this.model.hidden = true;
    const cancelEdit = labelledButton('Cancel', 'secondary-button cancel-edit', 'close');
    cancelEdit.setAttribute('aria-label', 'Cancel editing');
    this.editBar.append(icon('edit'), el('span', 'edit-text', 'Editing your last message: sending replaces it and everything after it.'), cancelEdit);
    this.editBar.hidden = true;
    this.editBar.id = 'edit-bar';
    const buttons = el('div', 'composer-buttons');
    buttons.append(this.model, el('span', 'composer-spacer'), this.stop, this.send);
    this.element.append(this.editBar, this.input, buttons);

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
      } else if (event.key === 'Escape' && this.editing) {
        event.preventDefault();
        this.endEdit();
      } else if (event.key === 'ArrowUp' && this.input.value === '' && !this.busy && !this.editing) {
        const last = this.lastMessage?.();
        if (last) {
          event.preventDefault();
          this.edit(last);
        }
      }
    });
    this.input.addEventListener('input', () => {
      if (!this.editing) this.host.saveState({ draft: this.input.value });
    });
    this.stop.addEventListener('click', () => {
      this.host.post({ type: 'stop' });
      this.input.focus();
    });
    cancelEdit.addEventListener('click', () => this.endEdit());
    this.model.addEventListener('change', () => this.host.post({ type: 'setModel', model: this.model.value }));
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    const stopHadFocus = document.activeElement === this.stop;
    this.stop.hidden = !busy;
    this.send.disabled = busy;
    this.element.classList.toggle('busy', busy);
    if (stopHadFocus) this.input.focus();
  }

  setModels(choice: ModelChoice): void {
    const options = choice.models.map((model) => {
      const option = el('option', '', model);
      option.value = model;
      return option;
    });
    this.model.replaceChildren(...options);
    this.model.value = choice.model;
    this.model.hidden = false;
  }

  focus(): void {
    this.input.focus();
  }

  /** Puts the person's last message into the box to be changed and sent again. */
  edit(message: EditableMessage): void {
    if (this.busy) return;
    this.editing = { message, draft: this.editing?.draft ?? this.resending?.draft ?? this.input.value };
    this.resending = undefined;
    this.input.value = message.text;
    this.editBar.hidden = false;
    this.input.setAttribute('aria-describedby', this.editBar.id);
    this.sendLabel.textContent = 'Resend';
    this.input.focus();
    this.input.setSelectionRange(message.text.length, message.text.length);
  }

  /** Leaves the edit: the draft typed before comes back. */
  endEdit(): void {
    if (!this.editing) return;
    this.input.value = this.editing.draft;
    this.editing = undefined;
    this.editBar.hidden = true;
    this.input.removeAttribute('aria-describedby');
    this.sendLabel.textContent = 'Send';
    this.input.focus();
  }

  /** The extension replaced the message (it removed the old one): the draft typed before the edit comes back. */
  resendTaken(): void {
    if (!this.resending) return;
    this.input.value = this.resending.draft;
    this.resending = undefined;
    this.host.saveState({ draft: this.input.value });
  }

  private submit(): void {
    const text = this.input.value.trim();
    if (!text || this.busy) return;
    if (this.editing) {
      const { message, draft } = this.editing;
      this.host.post({ type: 'resend', id: message.id, text });
      this.resending = { draft };
      this.editing = undefined;
      this.editBar.hidden = true;
      this.input.removeAttribute('aria-describedby');
      this.sendLabel.textContent = 'Send';
      this.input.focus();
      return;
    }
    this.resending = undefined;
    this.host.post({ type: 'send', text });
    this.input.value = '';
    this.host.saveState({ draft: '' });
    this.input.focus();
  }
}
