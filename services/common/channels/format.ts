import type { Notification } from '../../../schemas/notification.ts';

/**
 * Rendering of a notification for people. Every value may come from an attacker (a container
 * name, a user agent, a URL path), so each output format escapes for its own syntax, and control
 * characters never survive: a CR/LF in an event field cannot start a header or a fake line.
 */
export function oneLine(v: unknown, max = 500): string {
  const s = String(v ?? '').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function escapeHtml(v: unknown): string {
  return oneLine(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Slack's three control characters (its documented escaping for mrkdwn and plain text). */
export function escapeSlack(v: unknown): string {
  return oneLine(v).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

/** Teams renders a Markdown subset and HTML entities in card text: neutralise both. */
export function escapeTeams(v: unknown): string {
  return oneLine(v).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!).replace(/[\\`*_{}[\]()#+\-.!|~]/g, '\\$&');
}

export function subject(n: Notification): string {
  return oneLine(`[Podwatch][${n.severity.toUpperCase()}] ${n.summary}`, 200);
}

/** The facts shown in every format, unescaped; each renderer escapes them. */
export function facts(n: Notification): Array<[string, string]> {
  const a = n.alert;
  const f: Array<[string, string]> = [
    ['Severity', n.severity],
    ['Rule', `${n.rule.name} (${n.rule.id})`],
    ['Entity', `${n.entity.type}: ${n.entity.value}`],
    ['Alerts in group', `${n.group.alerts} (${n.group.since_last} since the last notification, ${n.group.events} events)`],
    ['First seen', n.group.first_seen],
    ['Last seen', n.group.last_seen],
  ];
  if (a?.user) f.push(['Identity', a.user.name]);
  if (a?.source) f.push(['Source IP', a.source.ip]);
  if (a?.container) f.push(['Container', [a.container.name, a.container.id?.slice(0, 12)].filter(Boolean).join(' ')]);
  if (a) f.push(['ATT&CK', `${a.threat.tactic.id} ${a.threat.tactic.name} / ${a.threat.technique.id} ${a.threat.technique.name}`]);
  f.push(['Notification id', n.id]);
  return f;
}

/** One line per evidence event: time, identity, method, path, outcome. */
export function evidence(n: Notification): string[] {
  return (n.alert?.alert.events ?? []).map((e) => [
    e['@timestamp'], e.user?.name ?? e.source?.ip ?? '-', e.http?.request?.method ?? e.event.action ?? '-',
    e.url?.path ?? e.container?.name ?? '-', e.http?.response?.status_code ?? e.event.outcome ?? '',
  ].join(' '));
}

export function renderText(n: Notification): string {
  const width = Math.max(...facts(n).map(([k]) => k.length));
  const lines = [oneLine(n.summary), '', ...facts(n).map(([k, v]) => `${k.padEnd(width)}  ${oneLine(v)}`)];
  const ev = evidence(n);
  if (ev.length) lines.push('', 'Evidence:', ...ev.map((l) => `  ${oneLine(l)}`));
  for (const sec of n.report?.sections ?? []) {
    lines.push('', `${oneLine(sec.title)}:`);
    if (!sec.rows.length) lines.push('  (none)');
    for (const row of sec.rows) lines.push(`  ${row.map((c, i) => `${sec.header[i] ? `${oneLine(sec.header[i])}=` : ''}${oneLine(c)}`).join('  ')}`);
  }
  lines.push('', `Sent by Podwatch (${n.kind}).`);
  return `${lines.join('\n')}\n`;
}

export function renderHtml(n: Notification): string {
  const rows = facts(n).map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  const ev = evidence(n);
  return `<!doctype html><html><body><h2>${escapeHtml(n.title)}</h2><p>${escapeHtml(n.summary)}</p><table>${rows}</table>`
    + (ev.length ? `<h3>Evidence</h3><ul>${ev.map((l) => `<li><code>${escapeHtml(l)}</code></li>`).join('')}</ul>` : '')
    + (n.report?.sections ?? []).map((sec) => `<h3>${escapeHtml(sec.title)}</h3>` + (sec.rows.length
      ? `<table border="1" cellpadding="3"><tr>${sec.header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${sec.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</table>`
      : '<p>(none)</p>')).join('')
    + `<p><small>Sent by Podwatch (${escapeHtml(n.kind)}).</small></p></body></html>`;
}
