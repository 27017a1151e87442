import type { MessageView } from '@chat/contracts';
import { act, errorBox, field, h, openDialog, showError, toast } from '../dom';
import { t } from '../i18n/i18n';
import { client } from '../state';
import { plainExcerpt } from '../messages/excerpt';

// Reporting a message (`report.create`): from the message's actions, with a reason the
// moderators read in their queue next to an excerpt of the message.

/**
 * Reasons offered first; "other" takes the text written below. The moderators read the reason
 * in the reporter's language (it is stored as written).
 */
const REASONS = ['spam', 'harassment', 'threats', 'sexual', 'scam', 'other'] as const;
const REASON_MAX = 300;

export function openReportDialog(m: MessageView) {
  const kind = h(
    'select',
    { testid: 'report-kind', 'data-field': 'reason' },
    ...REASONS.map((r) => h('option', { value: r, text: t(`moderation:report.reason.${r}`) })),
  ) as HTMLSelectElement;
  const details = h('textarea', {
    testid: 'report-reason',
    rows: 3,
    maxlength: REASON_MAX,
    placeholder: t('moderation:report.details.placeholder'),
  }) as HTMLTextAreaElement;
  const excerpt = plainExcerpt(m, 200);
  const error = errorBox('report-error');
  const send = h('button', { type: 'submit', class: 'primary', testid: 'report-send' }, t('moderation:report.send')) as HTMLButtonElement;
  const form = h(
    'form',
    { class: 'dialog-form', novalidate: true },
    h(
      'blockquote',
      { class: 'report-excerpt', testid: 'report-excerpt' },
      h('strong', { text: m.senderName }),
      h('span', { text: ` ${excerpt}` }),
    ),
    field(t('moderation:report.reason'), kind),
    field(t('moderation:report.details'), details, t('moderation:report.details.hint')),
    error,
    h('div', { class: 'actions' }, send),
  );
  const dialog = openDialog('report-dialog', t('moderation:report.title'), form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const extra = details.value.trim();
    const other = kind.value === 'other';
    if (other && !extra) return showError(error, new Error(t('moderation:report.details.needed')));
    const label = kind.options[kind.selectedIndex].text;
    const reason = (other ? extra : extra ? t('moderation:withReason', { text: label, reason: extra }) : label).slice(0, REASON_MAX);
    const ack = await act(send, error, () => client().request('report.create', { roomId: m.roomId, messageId: m.messageId, reason }));
    if (!ack) return;
    dialog.close();
    toast(t('moderation:report.thanks'));
  });
  kind.focus();
}
