// Modal confirmations on the native <dialog>: focus moves in and back, Escape cancels.

import { h } from './dom.js';

/**
 * Ask before a destructive action. Answers the form's values (checkboxes as booleans, text as
 * strings) when confirmed, or null when cancelled.
 */
export function confirmDialog({ title, body, confirmLabel, danger = false, fields = [], testid = 'confirm-dialog' }) {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const opener = document.activeElement;
    const inputs = fields.map((f) => f.type === 'checkbox'
      ? h('label', { class: 'check' }, h('input', { type: 'checkbox', name: f.name, 'data-testid': `dialog-${f.name}` }), h('span', {}, f.label, f.help && h('span', { class: 'muted' }, h('br'), f.help)))
      : h('label', { class: 'field' }, f.label, h('input', { type: 'text', name: f.name, placeholder: f.placeholder ?? '', 'data-testid': `dialog-${f.name}` })));
    const confirm = h('button', { type: 'submit', value: 'ok', class: danger ? 'btn danger solid' : 'btn primary', 'data-testid': 'dialog-confirm' }, confirmLabel);
    const form = h('form', { method: 'dialog' },
      h('h2', { id: titleId }, title),
      body && h('p', {}, body),
      inputs,
      h('div', { class: 'row' },
        h('button', { type: 'submit', value: 'cancel', class: 'btn', formnovalidate: true, 'data-testid': 'dialog-cancel' }, 'Cancel'),
        confirm));
    const dialog = h('dialog', { 'aria-labelledby': titleId, 'data-testid': testid }, form);
    dialog.addEventListener('close', () => {
      const values = {};
      for (const f of fields) {
        const el = form.elements.namedItem(f.name);
        values[f.name] = f.type === 'checkbox' ? el.checked : el.value.trim();
      }
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(dialog.returnValue === 'ok' ? values : null);
    });
    document.body.append(dialog);
    dialog.showModal();
    (danger ? dialog.querySelector('[value="cancel"]') : confirm).focus();
  });
}
