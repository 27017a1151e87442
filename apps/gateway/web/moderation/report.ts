import type { MessageView } from '@chat/contracts';
import { act, errorBox, field, h, openDialog, showError, toast } from '../dom';
import { client } from '../state';

// Reporting a message (`report.create`): from the message's actions, with a reason the
// moderators read in their queue next to an excerpt of the message.

/** Reasons offered first; "Other" takes the text written below. */
const REASONS = ['Spam or advertising', 'Harassment or hate', 'Threats or violence', 'Sexual content', 'Scam or phishing', 'Other'];
const REASON_MAX = 300;

export function openReportDialog(m: MessageView) {
  const kind = h(
    'select',
    { testid: 'report-kind', 'data-field': 'reason' },
    ...REASONS.map((r) => h('option', { value: r, text: r })),
  ) as HTMLSelectElement;
  const details = h('textarea', {
    testid: 'report-reason',
    rows: 3,
    maxlength: REASON_MAX,
    placeholder: 'What is wrong with this message? (optional unless "Other")',
  }) as HTMLTextAreaElement;
  const excerpt = m.body.length > 200 ? `${m.body.slice(0, 200)}…` : m.body;
  const error = errorBox('report-error');
  const send = h('button', { type: 'submit', class: 'primary', testid: 'report-send' }, 'Report') as HTMLButtonElement;
  const form = h(
    'form',
    { class: 'dialog-form', novalidate: true },
    h(
      'blockquote',
      { class: 'report-excerpt', testid: 'report-excerpt' },
      h('strong', { text: m.senderName }),
      h('span', { text: ` ${excerpt}` }),
    ),
    field('Reason', kind),
    field('Details', details, 'Only the moderators see your report and who sent it.'),
    error,
    h('div', { class: 'actions' }, send),
  );
  const dialog = openDialog('report-dialog', 'Report message', form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const extra = details.value.trim();
    if (kind.value === 'Other' && !extra) return showError(error, new Error('say what is wrong with the message'));
    const reason = (kind.value === 'Other' ? extra : extra ? `${kind.value}: ${extra}` : kind.value).slice(0, REASON_MAX);
    const ack = await act(send, error, () => client().request('report.create', { roomId: m.roomId, messageId: m.messageId, reason }));
    if (!ack) return;
    dialog.close();
    toast('Thank you: the moderators will look at your report.');
  });
  kind.focus();
}
