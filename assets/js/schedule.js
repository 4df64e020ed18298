/* schedule.js — the link detail's Schedule section: when to capture the link again (a
 * preset or a custom spec) and how many snapshots to keep, for the link
 * (PUT /api/links/{id}/schedule) or for every link with one of its tags
 * (GET/PUT /api/tags/{tag}/schedule); the next capture time; a schedule inherited from
 * the link's tags is named. What the user typed is kept while the link refreshes (dirty).
 */
import { $, h } from './dom.js';
import { timeEl, errText } from './format.js';
import { api } from './api.js';
import { state } from './state.js';
import { refreshLink } from './links.js';

const SCHED_PRESETS = ['hourly', 'daily', 'weekly'];

/** A new link in the detail: nothing typed for it yet, its own schedule on show. */
export function resetSchedule() {
  $('d-sched-scope').replaceChildren(h('option', { value: '' }, 'this link'));
  $('d-sched').dataset.dirty = '';
  $('d-sched-msg').textContent = '';
  $('d-sched-spec').removeAttribute('aria-invalid');
}

export function fillSchedule(link, force) {
  const form = $('d-sched');
  const scope = $('d-sched-scope');
  fillScopes(link);
  if (scope.value) return;   // a tag's schedule is on show
  const s = link.schedule || {};
  if (!form.dataset.dirty || force) {
    showSchedule(s);
    form.dataset.dirty = '';
  }
  const tags = $('d-sched-tags');
  tags.hidden = !s.from_tags;
  tags.textContent = s.from_tags ? 'From its tags: ' + s.from_tags + ' (a schedule set here wins)' : '';
  $('d-sched-next').replaceChildren(...(s.next_capture_at ? ['Next capture ', timeEl(s.next_capture_at),
    ' (' + new Date(s.next_capture_at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) + ')'] : []));
}

/** "this link" and one "links tagged X" per tag of the link. */
function fillScopes(link) {
  const scope = $('d-sched-scope');
  const tags = link.tags || [];
  const have = [...scope.options].slice(1).map((o) => o.value);
  if (have.length === tags.length && have.every((t, i) => t === tags[i])) return;  // same tags: keep the choice
  const keep = scope.value;
  scope.replaceChildren(h('option', { value: '' }, 'this link'),
    ...tags.map((t) => h('option', { value: t }, 'all links tagged ' + t)));
  scope.value = tags.includes(keep) ? keep : '';
}

function showSchedule(s) {
  const spec = s.schedule || '';
  $('d-sched-preset').value = !spec ? '' : SCHED_PRESETS.includes(spec) ? spec : 'custom';
  $('d-sched-spec').value = SCHED_PRESETS.includes(spec) ? '' : spec;
  $('d-sched-spec').hidden = $('d-sched-preset').value !== 'custom';
  $('d-sched-keep').value = s.keep_last || '';
  $('d-sched-changed').checked = !!s.keep_changed;
}

/** The scope changed: show the tag's schedule (or the link's again). */
async function onScheduleScope() {
  const d = state.detail;
  const tag = $('d-sched-scope').value;
  const msg = $('d-sched-msg');
  msg.textContent = '';
  $('d-sched').dataset.dirty = '';
  if (!tag) { if (d && d.link) fillSchedule(d.link, true); return; }
  $('d-sched-tags').hidden = true;
  $('d-sched-next').textContent = '';
  try {
    const s = await api('GET', '/api/tags/' + encodeURIComponent(tag) + '/schedule');
    if ($('d-sched-scope').value !== tag) return;
    showSchedule(s);
    $('d-sched-next').textContent = s.links + (s.links === 1 ? ' link' : ' links') + ' tagged ' + tag +
      '; a link\'s own schedule wins over its tags\'.';
  } catch (e) {
    msg.className = 'small err'; msg.textContent = errText(e);
  }
}

async function onScheduleSubmit(ev) {
  ev.preventDefault();
  const d = state.detail;
  if (!d || !d.link) return;
  const preset = $('d-sched-preset').value;
  const keep = $('d-sched-keep').value.trim();
  const body = {
    schedule: preset === 'custom' ? $('d-sched-spec').value.trim() || null : preset || null,
    keep_last: keep ? Number(keep) : null,
    keep_changed: $('d-sched-changed').checked,
  };
  const msg = $('d-sched-msg');
  msg.className = 'small'; msg.textContent = 'Saving…';
  $('d-sched-spec').removeAttribute('aria-invalid');
  const tag = $('d-sched-scope').value;
  try {
    if (tag) {
      const s = await api('PUT', '/api/tags/' + encodeURIComponent(tag) + '/schedule', body);
      $('d-sched').dataset.dirty = '';
      msg.className = 'small ok';
      msg.textContent = 'Saved for ' + s.links + (s.links === 1 ? ' link' : ' links') + ' tagged ' + tag + '.';
      refreshLink(d.id, {});
      return;
    }
    const s = await api('PUT', '/api/links/' + d.id + '/schedule', body);
    d.link = Object.assign({}, d.link, { schedule: s });
    $('d-sched').dataset.dirty = '';
    fillSchedule(d.link, true);
    msg.className = 'small ok'; msg.textContent = 'Saved.';
  } catch (e) {
    msg.className = 'small err'; msg.textContent = errText(e);
    if (e && e.field === 'schedule') $('d-sched-spec').setAttribute('aria-invalid', 'true');
  }
}

export function bindSchedule() {
  $('d-sched').addEventListener('submit', onScheduleSubmit);
  $('d-sched').addEventListener('input', () => { $('d-sched').dataset.dirty = '1'; $('d-sched-msg').textContent = ''; });
  $('d-sched-scope').addEventListener('change', onScheduleScope);
  $('d-sched-preset').addEventListener('change', () => {
    const custom = $('d-sched-preset').value === 'custom';
    $('d-sched-spec').hidden = !custom;
    if (custom) $('d-sched-spec').focus();
  });
}
