import type { AuditEntry, Limits, ReportState, ReportView, ServerBanView, ServerRole, ServerRoleView, UserView } from '@chat/contracts';
import { act, errorBox, fullTime, h, openDialog, showError, toast, toastError } from '../dom';
import { t } from '../i18n/i18n';
import { jumpToMessage } from '../messages/view';
import { client, state } from '../state';
import { actorText, auditSentence, auditTypeLabel } from './audit-text';
import { filterEditor } from './filters';
import { ruleName } from './format';
import { namer, remember, resolveUser, roomName, userInput, userName } from './people';
import { isServerAdmin, isStaff } from './standing';
import { muteRow, openUserCard, roleDone } from './user-card';

// The moderation panel of server moderators and administrators (the "Moderation" button, shown
// for a server role): the reports queue (claim, resolve, dismiss; approve or reject a held
// message), the audit log (paged, by user or room), active mutes and server bans (unmute,
// unban), the server's content filters with a test box, and for administrators the server
// roles. Reports arrive live (`moderation.report`): the button counts the open ones.

type Tab = 'reports' | 'audit' | 'mutes' | 'bans' | 'filters' | 'roles';
const TABS: Tab[] = ['reports', 'audit', 'mutes', 'bans', 'filters', 'roles'];
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
  button.title = n ? t('moderation:panel.button.reports', { count: n }) : t('moderation:panel.title');
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
    toast(t(r.kind === 'held' ? 'moderation:reports.newHeld' : 'moderation:reports.new', { name: userName(r.target) }));
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
    ...TABS.filter((tab) => tab !== 'roles' || isServerAdmin()).map((tab) =>
      h(
        'button',
        { type: 'button', class: 'mod-tab', role: 'tab', testid: `mod-tab-${tab}`, 'data-tab': tab, onclick: () => show(tab) },
        t(`moderation:tab.${tab}`),
      ),
    ),
  );
  const body = h('div', { class: 'mod-body', testid: 'mod-body' });
  const dialog = openDialog('moderation-panel', t('moderation:panel.title'), tabs, body);
  dialog.classList.add('mod-dialog', 'mod-panel');
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
  for (const b of open.dialog.querySelectorAll<HTMLElement>('.mod-tab')) {
    b.setAttribute('aria-selected', String(b.dataset.tab === tab));
    // On a phone the tabs scroll sideways: the chosen one is brought into view.
    if (b.dataset.tab === tab) b.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }
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

const who = (by: UserView | null, rule: string | null) => actorText(by, rule, namer);

/** A name that opens the person's moderation card. */
function personButton(u: UserView, testid: string) {
  remember(u);
  return h('button', { type: 'button', class: 'link-button person-link', testid, onclick: () => openUserCard(u, null) }, userName(u));
}

// ---------------------------------------------------------------- reports

let reportsView: ReportsView | null = null;

const STATES: Array<ReportState | ''> = ['', 'open', 'claimed', 'resolved', 'dismissed'];
const stateLabel = (s: ReportState | '') => t(`moderation:reports.state.${s || 'live'}`);

class ReportsView {
  readonly el: HTMLElement;
  private reports: ReportView[] = [];
  private nextBefore: number | null = null;
  private readonly list = h('ul', { class: 'mod-list', testid: 'report-list' });
  private readonly more = h(
    'button',
    { type: 'button', testid: 'reports-more', hidden: true },
    t('moderation:reports.more'),
  ) as HTMLButtonElement;
  private readonly error = errorBox('reports-error');
  private readonly filter = h(
    'select',
    { testid: 'reports-state' },
    ...STATES.map((s) => h('option', { value: s, text: stateLabel(s) })),
  ) as HTMLSelectElement;

  constructor() {
    const refresh = h(
      'button',
      {
        type: 'button',
        class: 'icon-button',
        testid: 'reports-refresh',
        title: t('moderation:refresh'),
        'aria-label': t('moderation:refresh'),
      },
      '↻',
    );
    refresh.onclick = () => void this.load(false);
    this.filter.onchange = () => void this.load(false);
    this.more.onclick = () => void this.load(true);
    this.el = h(
      'div',
      { class: 'mod-view', testid: 'reports-view' },
      h('div', { class: 'mod-toolbar' }, h('label', { class: 'muted' }, t('moderation:reports.show'), ' ', this.filter), refresh),
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
              text: t('moderation:reports.empty', { state: stateLabel(this.filter.value as ReportState | '') }),
            }),
          ]),
    );
  }

  private row(r: ReportView): HTMLElement {
    remember(r.target, r.by, r.claimedBy, r.closedBy);
    const error = errorBox('report-error');
    const note = h('input', { testid: 'report-note', maxlength: 300, placeholder: t('moderation:reports.note') }) as HTMLInputElement;
    const action = h('input', { testid: 'report-action', maxlength: 80, placeholder: t('moderation:reports.action') }) as HTMLInputElement;
    const live = r.state === 'open' || r.state === 'claimed';
    const held = r.kind === 'held';
    const btn = (testid: string, label: string, cls = 'small') =>
      h('button', { type: 'button', class: cls, testid }, label) as HTMLButtonElement;
    const done = () => void this.load(false);
    const claim = btn('report-claim', t('moderation:reports.claim'));
    claim.onclick = () => act(claim, error, () => client().request('mod.report.claim', { reportId: r.reportId })).then((a) => a && done());
    const resolve = btn('report-resolve', t(held ? 'moderation:reports.approve' : 'moderation:reports.resolve'), 'small primary');
    resolve.onclick = async () => {
      const req = {
        reportId: r.reportId,
        ...(note.value.trim() ? { note: note.value.trim() } : {}),
        ...(!held ? { action: action.value.trim() || 'upheld' } : {}),
      };
      const ack = await act(resolve, error, () => client().request('mod.report.resolve', req));
      if (!ack) return;
      toast(t(held ? 'moderation:reports.approved' : 'moderation:reports.resolved'));
      done();
    };
    const dismiss = btn('report-dismiss', t(held ? 'moderation:reports.reject' : 'moderation:reports.dismiss'), 'small danger');
    dismiss.onclick = async () => {
      const req = { reportId: r.reportId, ...(note.value.trim() ? { note: note.value.trim() } : {}) };
      const ack = await act(dismiss, error, () => client().request('mod.report.dismiss', req));
      if (!ack) return;
      toast(t(held ? 'moderation:reports.rejected' : 'moderation:reports.dismissed'));
      done();
    };
    const text = held ? r.held?.body : r.excerpt;
    // The reported message, where it is (it may since have been deleted: the room opens there anyway).
    const goTo =
      r.roomId && r.messageId
        ? h(
            'button',
            {
              type: 'button',
              class: 'small',
              testid: 'report-goto',
              onclick: () => {
                open?.dialog.close();
                void goToMessage(r);
              },
            },
            t('moderation:reports.goto'),
          )
        : null;
    return h(
      'li',
      { class: `mod-item report ${r.state}`, testid: 'report', 'data-report-id': r.reportId, 'data-state': r.state, 'data-kind': r.kind },
      h(
        'div',
        { class: 'mod-item-head' },
        h('span', { class: `role-badge kind-${r.kind}`, testid: 'report-kind', text: t(`moderation:reports.kind.${r.kind}`) }),
        h('span', { class: `role-badge state-${r.state}`, testid: 'report-state', text: stateLabel(r.state) }),
        personButton(r.target, 'report-target'),
        h('span', {
          class: 'muted small-text',
          text: [r.roomId ? roomName(r.roomId) : '', fullTime(r.time), t('moderation:reports.by', { name: who(r.by, r.rule) })]
            .filter(Boolean)
            .join(' · '),
        }),
      ),
      text ? h('blockquote', { class: 'report-excerpt', testid: 'report-excerpt', text }) : null,
      h('p', { class: 'report-reason', testid: 'report-reason', text: r.reason }),
      r.claimedBy && live
        ? h('p', {
            class: 'muted small-text',
            testid: 'report-claimed',
            text: t('moderation:reports.claimedBy', { name: userName(r.claimedBy) }),
          })
        : null,
      !live
        ? h('p', {
            class: 'muted small-text',
            testid: 'report-closed',
            text: [
              t('moderation:reports.closedBy', { state: stateLabel(r.state), name: r.closedBy ? userName(r.closedBy) : '—' }),
              r.closedAt ? fullTime(r.closedAt) : '',
              r.action === 'approved' ? t('moderation:reports.approvedAction') : (r.action ?? ''),
              r.note ?? '',
            ]
              .filter(Boolean)
              .join(' · '),
          })
        : null,
      live
        ? h(
            'div',
            { class: 'report-actions' },
            goTo,
            r.state === 'open' ? claim : null,
            held ? null : action,
            note,
            resolve,
            dismiss,
            h(
              'button',
              { type: 'button', class: 'small', testid: 'report-user', onclick: () => openUserCard(r.target, r.roomId) },
              t('moderation:reports.actOnUser'),
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
  private readonly more = h(
    'button',
    { type: 'button', testid: 'audit-more', hidden: true },
    t('moderation:audit.more'),
  ) as HTMLButtonElement;
  private readonly error = errorBox('audit-error');
  private readonly userBox = userInput('audit-user', t('moderation:audit.user'));
  private readonly roomBox = h('input', {
    testid: 'audit-room',
    placeholder: t('moderation:audit.room'),
    maxlength: 64,
    spellcheck: 'false',
    list: 'mod-audit-rooms',
  }) as HTMLInputElement;
  /** The rooms this page knows, suggested by name (the filter takes the room's id). */
  private readonly rooms = h(
    'datalist',
    { id: 'mod-audit-rooms' },
    ...[...state.rooms.keys()].map((id) => h('option', { value: id, label: roomName(id) })),
  );
  private readonly shown = h('p', { class: 'muted small-text', testid: 'audit-filter' });

  constructor() {
    const apply = h('button', { type: 'submit', testid: 'audit-apply' }, t('moderation:audit.apply')) as HTMLButtonElement;
    const clear = h('button', { type: 'button', testid: 'audit-clear' }, t('moderation:audit.all')) as HTMLButtonElement;
    const form = h('form', { class: 'mod-toolbar', novalidate: true }, this.userBox, this.roomBox, this.rooms, apply, clear);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const name = this.userBox.value.trim();
      const user = name ? resolveUser(name) : null;
      if (name && !user) return showError(this.error, new Error(t('moderation:audit.unknownUser', { name })));
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
      user && roomId
        ? t('moderation:audit.showing.both', { name: userName(user), room: roomName(roomId) })
        : user
          ? t('moderation:audit.showing.user', { name: userName(user) })
          : roomId
            ? t('moderation:audit.showing.room', { room: roomName(roomId) })
            : t('moderation:audit.showing.all');
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
              title: t('moderation:audit.onlyAbout', { name: userName(u) }),
              onclick: () => this.setFilter(u, null),
            },
            userName(u),
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
            h('span', { class: `role-badge audit-type type-${e.type}`, testid: 'audit-type', text: auditTypeLabel(e.type) }),
            h('time', { class: 'muted small-text', datetime: e.time, text: fullTime(e.time) }),
            e.roomId
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'link-button small-text',
                    testid: 'audit-room-link',
                    title: t('moderation:audit.onlyIn', { room: roomName(e.roomId) }),
                    onclick: () => this.setFilter(null, e.roomId),
                  },
                  roomName(e.roomId),
                )
              : null,
            e.rule && e.actor
              ? h('span', { class: 'muted small-text', text: t('moderation:audit.rule', { rule: ruleName(e.rule) }) })
              : null,
          ),
          h('p', { class: 'audit-summary', testid: 'audit-summary', title: e.summary, text: auditSentence(e, namer) }),
          e.actor || e.target
            ? h(
                'p',
                { class: 'muted small-text audit-people' },
                t('moderation:audit.people'),
                ' ',
                name(e.actor, 'audit-actor'),
                e.actor && e.target && e.target.userId !== e.actor.userId ? ' ' : '',
                e.target && e.target.userId !== e.actor?.userId ? name(e.target, 'audit-target') : null,
              )
            : null,
        );
      }),
      ...(this.entries.length ? [] : [h('li', { class: 'muted empty', text: t('moderation:audit.empty') })]),
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
      ...(res.mutes.length ? [] : [h('li', { class: 'muted empty', text: t('moderation:mutes.empty') })]),
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
    const unban = h('button', { type: 'button', class: 'small', testid: 'server-unban' }, t('moderation:unban')) as HTMLButtonElement;
    unban.onclick = async () => {
      const ack = await act(unban, err, () => client().request('mod.unban', { userId: b.userId }));
      if (!ack) return;
      toast(t('moderation:unban.done', { name: b.username }));
      void load();
    };
    return h(
      'li',
      { class: 'member mod-row', testid: `server-ban-${b.username}`, 'data-user-id': b.userId },
      h('span', { class: 'person-name', text: b.username }),
      b.review ? h('span', { class: 'role-badge', text: t('moderation:bans.review') }) : null,
      h('span', {
        class: 'muted small-text',
        text: [fullTime(b.time), t('moderation:by', { name: who(b.by, b.rule) }), b.reason].filter(Boolean).join(' · '),
      }),
      unban,
      err,
    );
  };
  const load = async () => {
    const res = await act(null, error, () => client().request('mod.bans', {}));
    if (!res) return;
    list.replaceChildren(
      ...res.bans.map(row),
      ...(res.bans.length ? [] : [h('li', { class: 'muted empty', text: t('moderation:bans.empty') })]),
    );
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
    h('option', { value: 'moderator', text: t('moderation:role.moderator') }),
    h('option', { value: 'admin', text: t('moderation:role.admin') }),
  ) as HTMLSelectElement;
  const grant = h('button', { type: 'submit', class: 'primary', testid: 'role-grant' }, t('moderation:role.grant')) as HTMLButtonElement;
  const form = h('form', { class: 'mod-toolbar', novalidate: true }, name, role, grant);
  const set = async (button: HTMLButtonElement | null, user: UserView, value: ServerRole | null) => {
    const ack = await act(button, error, () => client().request('mod.role.set', { userId: user.userId, role: value }));
    if (!ack) return;
    toast(roleDone(user.username, value));
    void load();
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const user = resolveUser(name.value);
    if (!user) return showError(error, new Error(t('moderation:roles.unknownUser', { name: name.value.trim() })));
    void set(grant, user, role.value as ServerRole);
  });
  const row = (r: ServerRoleView) => {
    remember(r);
    const remove = h(
      'button',
      { type: 'button', class: 'small', testid: 'role-remove' },
      t('moderation:roles.remove'),
    ) as HTMLButtonElement;
    remove.onclick = () => void set(remove, r, null);
    return h(
      'li',
      { class: 'member mod-row', testid: `role-${r.username}`, 'data-role': r.role },
      h('span', { class: 'person-name', text: r.username }),
      h('span', { class: `role-badge ${r.role}`, text: t(`moderation:role.${r.role}`) }),
      r.source === 'config'
        ? h('span', {
            class: 'muted small-text role-config',
            testid: 'role-config',
            title: t('moderation:role.config'),
            text: t('moderation:roles.config'),
          })
        : remove,
    );
  };
  const load = async () => {
    const res = await act(null, error, () => client().request('mod.roles', {}));
    if (res) list.replaceChildren(...res.roles.map(row));
  };
  void load();
  return h('div', { class: 'mod-view', testid: 'roles-view' }, form, error, list);
}

/** How many pages back from the report's time the reported message is looked for. */
const GOTO_PAGES = 5;
/** The contracts' runtime is not in the bundle: the type keeps this equal to Limits.historyPageMax. */
const HISTORY_PAGE_MAX: (typeof Limits)['historyPageMax'] = 100;

/**
 * Opens the room of a report at its message. A report names the message by id and the time of
 * the report; the message's position is found by reading the room's history back from then.
 */
async function goToMessage(r: ReportView) {
  const roomId = r.roomId!;
  try {
    let page = await client().request('history.page', { roomId, at: r.time, limit: HISTORY_PAGE_MAX });
    for (let i = 0; i < GOTO_PAGES; i++) {
      const found = page.messages.find((m) => m.messageId === r.messageId);
      if (found) return void (await jumpToMessage(roomId, found.position, found.messageId));
      if (page.nextBefore === null) break;
      page = await client().request('history.page', { roomId, before: page.nextBefore, limit: HISTORY_PAGE_MAX });
    }
    toast(t('moderation:reports.gotoMissing'), 'error');
  } catch (err) {
    toastError(err);
  }
}
