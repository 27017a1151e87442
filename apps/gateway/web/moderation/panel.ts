import type { AuditEntry, ReportState, ReportView, ServerBanView, ServerRole, ServerRoleView, UserView } from '@chat/contracts';
import { act, errorBox, fullTime, h, openDialog, plural, showError, toast } from '../dom';
import { client } from '../state';
import { filterEditor } from './filters';
import { remember, resolveUser, userInput } from './people';
import { isServerAdmin, isStaff, scopeText } from './standing';
import { muteRow, openUserCard } from './user-card';

// The moderation panel of server moderators and administrators (the "Moderation" button, shown
// for a server role): the reports queue (claim, resolve, dismiss; approve or reject a held
// message), the audit log (paged, by user or room), active mutes and server bans (unmute,
// unban), the server's content filters with a test box, and for administrators the server
// roles. Reports arrive live (`moderation.report`): the button counts the open ones.

type Tab = 'reports' | 'audit' | 'mutes' | 'bans' | 'filters' | 'roles';
const TABS: Array<[Tab, string]> = [
  ['reports', 'Reports'],
  ['audit', 'Audit log'],
  ['mutes', 'Mutes'],
  ['bans', 'Bans'],
  ['filters', 'Filters'],
  ['roles', 'Roles'],
];
const PAGE = 50;

/** Open and claimed reports, by id: the badge on the button, kept live. */
const queue = new Map<string, ReportView>();
/** The panel while it is open. */
let open: { dialog: HTMLDialogElement; body: HTMLElement; tab: Tab } | null = null;

let button: HTMLButtonElement | null = null;
let badge: HTMLElement | null = null;

/** The top bar's "Moderation" button: shown for a server role, with the count of open reports. */
export function renderModButton() {
  button ??= document.getElementById('open-moderation') as HTMLButtonElement | null;
  badge ??= document.getElementById('mod-badge');
  if (!button) return;
  button.hidden = !isStaff();
  if (!isStaff() && open) open.dialog.close();
  const n = [...queue.values()].filter((r) => r.state === 'open').length;
  if (badge) {
    badge.textContent = n > 99 ? '99+' : String(n);
    badge.hidden = n === 0;
  }
  button.title = n ? `Moderation: ${plural(n, 'open report')}` : 'Moderation';
}

/** After every (re)connection for staff: the open queue (for the badge). */
export async function loadQueue() {
  queue.clear();
  if (!isStaff()) return renderModButton();
  try {
    let before: number | undefined;
    // The first pages are enough for a count; a longer queue shows "99+".
    for (let i = 0; i < 3; i++) {
      const page = await client().request('mod.reports', { limit: 200, ...(before ? { before } : {}) });
      for (const r of page.reports) if (r.state === 'open' || r.state === 'claimed') queue.set(r.reportId, r);
      if (page.nextBefore === null) break;
      before = page.nextBefore;
    }
  } catch {
    // The badge stays empty; the panel shows the error when opened.
  }
  renderModButton();
}

export function resetQueue() {
  queue.clear();
  open?.dialog.close();
  renderModButton();
}

/** moderation.report: a report was filed or changed state. */
export function onReport(r: ReportView) {
  if (!r?.reportId) return;
  // A new one is said once (the panel, when open, shows it anyway).
  if (r.state === 'open' && !queue.has(r.reportId) && !open)
    toast(r.kind === 'held' ? `A message by ${r.target.username} is held for review.` : `New report about ${r.target.username}.`);
  if (r.state === 'open' || r.state === 'claimed') queue.set(r.reportId, r);
  else queue.delete(r.reportId);
  renderModButton();
  if (open?.tab === 'reports') reportsView?.upsert(r);
}

export function openModerationPanel(tab: Tab = 'reports') {
  if (!isStaff()) return;
  if (open) {
    show(tab);
    return;
  }
  const tabs = h(
    'div',
    { class: 'mod-tabs', role: 'tablist' },
    ...TABS.filter(([t]) => t !== 'roles' || isServerAdmin()).map(([t, label]) =>
      h('button', { type: 'button', class: 'mod-tab', role: 'tab', testid: `mod-tab-${t}`, 'data-tab': t, onclick: () => show(t) }, label),
    ),
  );
  const body = h('div', { class: 'mod-body', testid: 'mod-body' });
  const dialog = openDialog('moderation-panel', 'Moderation', tabs, body);
  dialog.classList.add('mod-dialog');
  dialog.addEventListener('close', () => {
    open = null;
    reportsView = null;
  });
  open = { dialog, body, tab };
  show(tab);
}

function show(tab: Tab) {
  if (!open) return;
  open.tab = tab;
  for (const b of open.dialog.querySelectorAll<HTMLElement>('.mod-tab')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  reportsView = null;
  const views: Record<Tab, () => HTMLElement> = {
    reports: () => (reportsView = new ReportsView()).el,
    audit: () => new AuditView().el,
    mutes: mutesView,
    bans: bansView,
    filters: () => h('div', { class: 'mod-view', testid: 'filters-view' }, filterEditor(null)),
    roles: rolesView,
  };
  open.body.replaceChildren(views[tab]());
  open.body.dataset.tab = tab;
}

const who = (by: UserView | null, rule: string | null) => (by ? by.username : `automatic${rule ? ` (${rule})` : ''}`);

/** A name that opens the person's moderation card. */
function personButton(u: UserView, testid: string) {
  remember(u);
  return h('button', { type: 'button', class: 'link-button person-link', testid, onclick: () => openUserCard(u, null) }, u.username);
}

// ---------------------------------------------------------------- reports

let reportsView: ReportsView | null = null;

const STATE_LABELS: Record<ReportState | '', string> = {
  '': 'open and claimed',
  open: 'open',
  claimed: 'claimed',
  resolved: 'resolved',
  dismissed: 'dismissed',
};

class ReportsView {
  readonly el: HTMLElement;
  private reports: ReportView[] = [];
  private nextBefore: number | null = null;
  private readonly list = h('ul', { class: 'mod-list', testid: 'report-list' });
  private readonly more = h('button', { type: 'button', testid: 'reports-more', hidden: true }, 'Older reports') as HTMLButtonElement;
  private readonly error = errorBox('reports-error');
  private readonly filter = h(
    'select',
    { testid: 'reports-state' },
    ...(Object.keys(STATE_LABELS) as Array<ReportState | ''>).map((s) => h('option', { value: s, text: STATE_LABELS[s] })),
  ) as HTMLSelectElement;

  constructor() {
    const refresh = h('button', { type: 'button', class: 'icon-button', testid: 'reports-refresh', title: 'Refresh' }, '↻');
    refresh.onclick = () => void this.load(false);
    this.filter.onchange = () => void this.load(false);
    this.more.onclick = () => void this.load(true);
    this.el = h(
      'div',
      { class: 'mod-view', testid: 'reports-view' },
      h('div', { class: 'mod-toolbar' }, h('label', { class: 'muted', text: 'Show ' }), this.filter, refresh),
      this.error,
      this.list,
      this.more,
    );
    void this.load(false);
  }

  private get state(): ReportState | undefined {
    return (this.filter.value || undefined) as ReportState | undefined;
  }

  async load(older: boolean) {
    const before = older ? this.nextBefore : null;
    const page = await act(this.more, this.error, () =>
      client().request('mod.reports', { limit: PAGE, ...(this.state ? { state: this.state } : {}), ...(before ? { before } : {}) }),
    );
    if (!page) return;
    this.reports = older ? [...this.reports, ...page.reports] : page.reports;
    this.nextBefore = page.nextBefore;
    // The open and claimed ones, read afresh: the button's count follows (a report closed elsewhere drops out).
    if (!this.state) {
      if (!older && page.nextBefore === null) queue.clear();
      for (const r of page.reports) queue.set(r.reportId, r);
    }
    renderModButton();
    this.draw();
  }

  /** A live report: replaced where shown, or added on top when the filter takes it. */
  upsert(r: ReportView) {
    const i = this.reports.findIndex((x) => x.reportId === r.reportId);
    const fits = this.state ? r.state === this.state : r.state === 'open' || r.state === 'claimed';
    if (i >= 0) this.reports[i] = r;
    else if (fits) this.reports.unshift(r);
    this.draw();
  }

  private draw() {
    this.more.hidden = this.nextBefore === null;
    this.list.replaceChildren(
      ...this.reports.map((r) => this.row(r)),
      ...(this.reports.length
        ? []
        : [
            h('li', {
              class: 'muted empty',
              testid: 'reports-empty',
              text: `No ${STATE_LABELS[this.filter.value as ReportState | '']} reports.`,
            }),
          ]),
    );
  }

  private row(r: ReportView): HTMLElement {
    remember(r.target, r.by, r.claimedBy, r.closedBy);
    const error = errorBox('report-error');
    const note = h('input', { testid: 'report-note', maxlength: 300, placeholder: 'note (optional)' }) as HTMLInputElement;
    const action = h('input', { testid: 'report-action', maxlength: 80, placeholder: 'what was done, e.g. warned' }) as HTMLInputElement;
    const live = r.state === 'open' || r.state === 'claimed';
    const held = r.kind === 'held';
    const btn = (testid: string, label: string, cls = 'small') =>
      h('button', { type: 'button', class: cls, testid }, label) as HTMLButtonElement;
    const done = () => void this.load(false);
    const claim = btn('report-claim', 'Claim');
    claim.onclick = () => act(claim, error, () => client().request('mod.report.claim', { reportId: r.reportId })).then((a) => a && done());
    const resolve = btn('report-resolve', held ? 'Approve and post' : 'Resolve', 'small primary');
    resolve.onclick = async () => {
      const req = {
        reportId: r.reportId,
        ...(note.value.trim() ? { note: note.value.trim() } : {}),
        ...(!held ? { action: action.value.trim() || 'upheld' } : {}),
      };
      const ack = await act(resolve, error, () => client().request('mod.report.resolve', req));
      if (!ack) return;
      toast(held ? 'Approved: the message is posted.' : 'Report resolved.');
      done();
    };
    const dismiss = btn('report-dismiss', held ? 'Reject' : 'Dismiss', 'small danger');
    dismiss.onclick = async () => {
      const req = { reportId: r.reportId, ...(note.value.trim() ? { note: note.value.trim() } : {}) };
      const ack = await act(dismiss, error, () => client().request('mod.report.dismiss', req));
      if (!ack) return;
      toast(held ? 'Rejected: the message is dropped.' : 'Report dismissed.');
      done();
    };
    const place = r.roomId ? scopeText(r.roomId) : '';
    const text = held ? r.held?.body : r.excerpt;
    return h(
      'li',
      { class: `mod-item report ${r.state}`, testid: 'report', 'data-report-id': r.reportId, 'data-state': r.state, 'data-kind': r.kind },
      h(
        'div',
        { class: 'mod-item-head' },
        h('span', { class: `role-badge kind-${r.kind}`, testid: 'report-kind', text: r.kind }),
        h('span', { class: `role-badge state-${r.state}`, testid: 'report-state', text: r.state }),
        personButton(r.target, 'report-target'),
        h('span', { class: 'muted small-text', text: `${place} · ${fullTime(r.time)} · reported by ${who(r.by, r.rule)}` }),
      ),
      text ? h('blockquote', { class: 'report-excerpt', testid: 'report-excerpt', text }) : null,
      h('p', { class: 'report-reason', testid: 'report-reason', text: r.reason }),
      r.claimedBy && live
        ? h('p', { class: 'muted small-text', testid: 'report-claimed', text: `claimed by ${r.claimedBy.username}` })
        : null,
      !live
        ? h('p', {
            class: 'muted small-text',
            testid: 'report-closed',
            text: `${r.state} by ${r.closedBy?.username ?? '—'}${r.closedAt ? ` · ${fullTime(r.closedAt)}` : ''}${r.action ? ` · ${r.action}` : ''}${r.note ? ` · ${r.note}` : ''}`,
          })
        : null,
      live
        ? h(
            'div',
            { class: 'report-actions' },
            r.state === 'open' ? claim : null,
            held ? null : action,
            note,
            resolve,
            dismiss,
            h(
              'button',
              { type: 'button', class: 'small', testid: 'report-user', onclick: () => openUserCard(r.target, r.roomId) },
              'Act on user…',
            ),
          )
        : null,
      error,
    );
  }
}

// ---------------------------------------------------------------- audit

class AuditView {
  readonly el: HTMLElement;
  private entries: AuditEntry[] = [];
  private nextBefore: number | null = null;
  private filter: { user: UserView | null; roomId: string | null } = { user: null, roomId: null };
  private readonly list = h('ul', { class: 'mod-list audit-list', testid: 'audit-list' });
  private readonly more = h('button', { type: 'button', testid: 'audit-more', hidden: true }, 'Older entries') as HTMLButtonElement;
  private readonly error = errorBox('audit-error');
  private readonly userBox = userInput('audit-user', 'user (name)');
  private readonly roomBox = h('input', {
    testid: 'audit-room',
    placeholder: 'room id',
    maxlength: 64,
    spellcheck: 'false',
  }) as HTMLInputElement;
  private readonly shown = h('p', { class: 'muted small-text', testid: 'audit-filter' });

  constructor() {
    const apply = h('button', { type: 'submit', testid: 'audit-apply' }, 'Filter') as HTMLButtonElement;
    const clear = h('button', { type: 'button', testid: 'audit-clear' }, 'All') as HTMLButtonElement;
    const form = h('form', { class: 'mod-toolbar', novalidate: true }, this.userBox, this.roomBox, apply, clear);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const name = this.userBox.value.trim();
      const user = name ? resolveUser(name) : null;
      if (name && !user)
        return showError(
          this.error,
          new Error(`"${name}" is not someone this page knows: open the audit from their card, or click their name in an entry`),
        );
      this.setFilter(user, this.roomBox.value.trim() || null);
    });
    clear.onclick = () => this.setFilter(null, null);
    this.more.onclick = () => void this.load(true);
    this.el = h('div', { class: 'mod-view', testid: 'audit-view' }, form, this.shown, this.error, this.list, this.more);
    void this.load(false);
  }

  setFilter(user: UserView | null, roomId: string | null) {
    this.filter = { user, roomId };
    this.userBox.value = user?.username ?? '';
    this.roomBox.value = roomId ?? '';
    void this.load(false);
  }

  async load(older: boolean) {
    const before = older ? this.nextBefore : null;
    const { user, roomId } = this.filter;
    const page = await act(this.more, this.error, () =>
      client().request('mod.audit', {
        limit: PAGE,
        ...(user ? { userId: user.userId } : {}),
        ...(roomId ? { roomId } : {}),
        ...(before ? { before } : {}),
      }),
    );
    if (!page) return;
    this.entries = older ? [...this.entries, ...page.entries] : page.entries;
    this.nextBefore = page.nextBefore;
    this.shown.textContent =
      [user ? `about ${user.username}` : null, roomId ? `in ${roomId}` : null].filter(Boolean).join(', ') || 'all entries';
    this.shown.textContent = `Showing ${this.shown.textContent}`;
    this.draw();
  }

  private draw() {
    this.more.hidden = this.nextBefore === null;
    const name = (u: UserView | null, testid: string) =>
      u
        ? h(
            'button',
            {
              type: 'button',
              class: 'link-button person-link',
              testid,
              title: `Only entries about ${u.username}`,
              onclick: () => this.setFilter(u, null),
            },
            u.username,
          )
        : null;
    this.list.replaceChildren(
      ...this.entries.map((e) => {
        remember(e.actor, e.target);
        return h(
          'li',
          { class: 'mod-item audit-entry', testid: 'audit-entry', 'data-type': e.type, 'data-position': e.position },
          h(
            'div',
            { class: 'mod-item-head' },
            h('time', { class: 'muted small-text', datetime: e.time, text: fullTime(e.time) }),
            h('span', { class: 'role-badge', text: e.type }),
            e.roomId ? h('span', { class: 'muted small-text', text: e.roomId }) : null,
          ),
          h('p', { class: 'audit-summary', testid: 'audit-summary', text: e.summary }),
          h(
            'p',
            { class: 'muted small-text' },
            'by ',
            e.actor ? name(e.actor, 'audit-actor') : `the moderation service${e.rule ? ` (${e.rule})` : ''}`,
            e.target ? ' · about ' : '',
            name(e.target, 'audit-target'),
          ),
        );
      }),
      ...(this.entries.length ? [] : [h('li', { class: 'muted empty', text: 'Nothing here.' })]),
    );
  }
}

// ---------------------------------------------------------------- mutes, bans, roles

function mutesView(): HTMLElement {
  const list = h('ul', { class: 'member-list mod-list', testid: 'mute-list' });
  const error = errorBox('mutes-error');
  const el = h('div', { class: 'mod-view', testid: 'mutes-view' }, error, list);
  const load = async () => {
    const res = await act(null, error, () => client().request('mod.mutes', {}));
    if (!res) return;
    list.replaceChildren(
      ...res.mutes.map((m) => muteRow(m, () => void load())),
      ...(res.mutes.length ? [] : [h('li', { class: 'muted empty', text: 'Nobody is muted.' })]),
    );
  };
  void load();
  return el;
}

function bansView(): HTMLElement {
  const list = h('ul', { class: 'member-list mod-list', testid: 'server-ban-list' });
  const error = errorBox('bans-error');
  const el = h('div', { class: 'mod-view', testid: 'bans-view' }, error, list);
  const row = (b: ServerBanView) => {
    remember({ userId: b.userId, username: b.username }, b.by);
    const err = errorBox('server-unban-error');
    const unban = h('button', { type: 'button', class: 'small', testid: 'server-unban' }, 'Unban') as HTMLButtonElement;
    unban.onclick = async () => {
      const ack = await act(unban, err, () => client().request('mod.unban', { userId: b.userId }));
      if (!ack) return;
      toast(`Unbanned ${b.username}`);
      void load();
    };
    return h(
      'li',
      { class: 'member mod-row', testid: `server-ban-${b.username}`, 'data-user-id': b.userId },
      h('span', { class: 'person-name', text: b.username }),
      b.review ? h('span', { class: 'role-badge', text: 'for review' }) : null,
      h('span', { class: 'muted small-text', text: `${fullTime(b.time)} · by ${who(b.by, b.rule)}${b.reason ? ` · ${b.reason}` : ''}` }),
      unban,
      err,
    );
  };
  const load = async () => {
    const res = await act(null, error, () => client().request('mod.bans', {}));
    if (!res) return;
    list.replaceChildren(...res.bans.map(row), ...(res.bans.length ? [] : [h('li', { class: 'muted empty', text: 'Nobody is banned.' })]));
  };
  void load();
  return el;
}

function rolesView(): HTMLElement {
  const list = h('ul', { class: 'member-list mod-list', testid: 'role-list' });
  const error = errorBox('roles-error');
  const name = userInput('role-username');
  const role = h(
    'select',
    { testid: 'role-new' },
    h('option', { value: 'moderator', text: 'moderator' }),
    h('option', { value: 'admin', text: 'administrator' }),
  ) as HTMLSelectElement;
  const grant = h('button', { type: 'submit', class: 'primary small', testid: 'role-grant' }, 'Give role') as HTMLButtonElement;
  const form = h('form', { class: 'mod-toolbar', novalidate: true }, name, role, grant);
  const set = async (button: HTMLButtonElement | null, user: UserView, value: ServerRole | null) => {
    const ack = await act(button, error, () => client().request('mod.role.set', { userId: user.userId, role: value }));
    if (!ack) return;
    toast(
      value
        ? `${user.username} is now a server ${value === 'admin' ? 'administrator' : 'moderator'}`
        : `${user.username} has no server role now`,
    );
    void load();
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const user = resolveUser(name.value);
    if (!user)
      return showError(
        error,
        new Error(`"${name.value.trim()}" is not someone this page knows: use their card from the people or member list`),
      );
    void set(grant, user, role.value as ServerRole);
  });
  const row = (r: ServerRoleView) => {
    remember(r);
    const remove = h('button', { type: 'button', class: 'small', testid: 'role-remove' }, 'Remove') as HTMLButtonElement;
    remove.onclick = () => void set(remove, r, null);
    return h(
      'li',
      { class: 'member mod-row', testid: `role-${r.username}`, 'data-role': r.role },
      h('span', { class: 'person-name', text: r.username }),
      h('span', { class: `role-badge ${r.role}`, text: r.role }),
      r.source === 'config' ? h('span', { class: 'muted small-text', text: 'SERVER_ADMINS' }) : remove,
    );
  };
  const load = async () => {
    const res = await act(null, error, () => client().request('mod.roles', {}));
    if (res) list.replaceChildren(...res.roles.map(row));
  };
  void load();
  return h('div', { class: 'mod-view', testid: 'roles-view' }, form, error, list);
}
