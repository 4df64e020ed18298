// ready.js — snapcat's in-page readiness probe, injected into every document
// of a capture (every frame, out-of-process iframes included) with
// Page.addScriptToEvaluateOnNewDocument, before any page script runs. It
// only observes, except for two deliberate changes: native lazy
// images/iframes are switched to eager loading, and the page is scrolled
// through when it uses IntersectionObserver or scroll listeners, so that
// lazy content is in the archive. The C side (capture_ready.c) calls
// window.__snapcatSettle(opts) after the load event and, in between rounds,
// checks that no network request is in flight.
//
// A page is ready when what it is waiting for has arrived, not when it stops
// moving. Settle, in order, each step bounded by opts.budgetMs overall:
//   fonts.ready -> eager lazy media -> scroll pass (if needed) -> images
//   complete and decoded -> short one-shot timers fired -> finite animations
//   finished -> the selector opts.waitFor (if given) -> two animation frames.
//
// PERPETUAL activity is recognised and not waited for (unless
// opts.perpetual === false):
//   - a timer chain: a setTimeout callback (the same function, or the same
//     source text: `() => tick()` made anew each time) scheduled again after
//     it fired, when nothing was added to the document since it fired (a
//     carousel moving slides, a poller updating a number, a MessageChannel
//     loop), or after it fired PERPETUAL_FIRINGS times whatever it added
//   - intervals, requestAnimationFrame loops and infinite animations are
//     never waited for (only finite animations and one-shot timers are)
//   - open WebSockets, EventSources and streamed responses (capture_ready.c
//     judges those from the network side)
// "Added to the document" means an element inserted (MutationObserver): a
// changed text or attribute is not new content.
(() => {
  if (window.__snapcatSettle) return;
  const SHORT_TIMER_MS = 2500;
  const PERPETUAL_FIRINGS = 4;
  const S = { liveTimers: new Map(), observers: 0, scrollListeners: 0 };
  const chains = new Map(); // timer key -> {fired, mark, perpetual, delay}
  const realSetTimeout = window.setTimeout.bind(window);
  const realClearTimeout = window.clearTimeout.bind(window);
  const now = () => performance.now();

  // Elements added to the document since it started: the content measure.
  let added = 0;
  const count = (recs) => {
    for (const r of recs) {
      for (const n of r.addedNodes) if (n.nodeType === 1) added++;
    }
  };
  const mo = new MutationObserver(count);
  mo.observe(document, { childList: true, subtree: true });
  const contentNow = () => { count(mo.takeRecords()); return added; };

  // A timer's chain: the same callback, or the same source text.
  const keyOf = (fn) => {
    let src = '';
    try { src = Function.prototype.toString.call(fn); } catch (e) { /* proxy */ }
    return (fn.name || '') + '|' + src.slice(0, 400);
  };

  // Scheduled again: perpetual if nothing was added since it last fired, or
  // if it keeps going after PERPETUAL_FIRINGS firings.
  const rearm = (c) => {
    if (c.perpetual || !c.fired) return;
    if (contentNow() === c.mark || c.fired >= PERPETUAL_FIRINGS) c.perpetual = true;
  };

  window.setTimeout = function (fn, delay, ...args) {
    const d = Number(delay) || 0;
    if (typeof fn !== 'function') return realSetTimeout(fn, delay, ...args);
    const k = keyOf(fn);
    let c = chains.get(k);
    if (!c) chains.set(k, (c = { fired: 0, mark: 0, perpetual: false, delay: d }));
    rearm(c);
    c.delay = d;
    const id = realSetTimeout(function () {
      S.liveTimers.delete(id);
      c.fired++;
      c.mark = contentNow();
      return fn.apply(this, args);
    }, d);
    if (d <= SHORT_TIMER_MS) S.liveTimers.set(id, c);
    return id;
  };
  window.clearTimeout = function (id) {
    S.liveTimers.delete(id);
    return realClearTimeout(id);
  };

  const RealIO = window.IntersectionObserver;
  if (RealIO) {
    window.IntersectionObserver = class extends RealIO {
      observe(t) { S.observers++; return super.observe(t); }
    };
  }
  const realAdd = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (type, ...rest) {
    if (type === 'scroll' && (this === window || this === document)) {
      S.scrollListeners++;
    }
    return realAdd.call(this, type, ...rest);
  };

  const sleep = (ms) => new Promise((r) => realSetTimeout(r, ms));
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const frames = async (n) => { for (let i = 0; i < n; i++) await frame(); };
  const within = (p, ms) => Promise.race([p, sleep(Math.max(0, ms))]);

  function eagerMedia() {
    let n = 0;
    for (const el of document.querySelectorAll('img[loading=lazy],iframe[loading=lazy]')) {
      el.loading = 'eager';
      n++;
    }
    return n;
  }

  async function scrollPass(deadline) {
    const se = document.scrollingElement || document.documentElement;
    const step = Math.max(200, window.innerHeight);
    let steps = 0;
    for (let y = 0; y < se.scrollHeight && now() < deadline && steps < 400; y += step) {
      window.scrollTo(0, y);
      await frame();
      steps++;
    }
    window.scrollTo(0, se.scrollHeight);
    await frames(2);
    window.scrollTo(0, 0);
    await frames(2);
    return steps;
  }

  async function images(deadline) {
    const pending = [];
    for (const img of document.images) {
      if (!img.complete) {
        pending.push(new Promise((r) => {
          img.addEventListener('load', r, { once: true });
          img.addEventListener('error', r, { once: true });
        }));
      } else if (img.naturalWidth && img.decode) {
        pending.push(img.decode().catch(() => {}));
      }
    }
    await within(Promise.all(pending), deadline - now());
    return pending.length;
  }

  // One-shot timers still to fire (perpetual chains are not waited for).
  function waited(perpetualOn) {
    let n = 0;
    for (const c of S.liveTimers.values()) {
      if (perpetualOn && c.perpetual) continue;
      n++;
    }
    return n;
  }

  async function timers(deadline, perpetualOn) {
    while (now() < deadline) {
      contentNow();
      if (!waited(perpetualOn)) return 0;
      await sleep(20);
    }
    return waited(perpetualOn);
  }

  async function animations(deadline) {
    if (!document.getAnimations) return 0;
    const finite = document.getAnimations().filter((a) => {
      if (a.playState !== 'running' || !a.effect) return false;
      const end = a.effect.getComputedTiming().endTime;
      return Number.isFinite(end);
    });
    await within(Promise.all(finite.map((a) => a.finished.catch(() => {}))),
      deadline - now());
    return finite.length;
  }

  async function selector(sel, deadline) {
    let el = null;
    try {
      while (!(el = document.querySelector(sel)) && now() < deadline) await sleep(25);
    } catch (e) { return 'bad'; }
    return el ? 'found' : 'missing';
  }

  // What was judged perpetual, for the snapshot's note.
  function perpetualSummary() {
    const out = [];
    for (const [k, c] of chains) {
      if (!c.perpetual) continue;
      const name = k.slice(0, k.indexOf('|')) || 'anonymous';
      out.push(`timer chain ${name} every ${c.delay} ms`);
      if (out.length === 3) break;
    }
    let infinite = 0;
    if (document.getAnimations) {
      for (const a of document.getAnimations()) {
        if (a.playState === 'running' && a.effect &&
            !Number.isFinite(a.effect.getComputedTiming().endTime)) infinite++;
      }
    }
    if (infinite) out.push(`${infinite} infinite animation(s)`);
    return out;
  }

  // Same-origin child frames settle with their parent (cross-origin ones
  // are separate targets: the C side asks them).
  async function childFrames(opts, deadline) {
    const kids = [];
    for (let i = 0; i < window.frames.length; i++) {
      try {
        const w = window.frames[i];
        if (w.__snapcatSettle) {
          kids.push(w.__snapcatSettle({ ...opts, scroll: false,
            budgetMs: Math.max(1, deadline - now()) }));
        }
      } catch (e) { /* cross-origin */ }
    }
    const r = await within(Promise.all(kids), deadline - now());
    return Array.isArray(r) ? r : [];
  }

  window.__snapcatSettle = async function (opts) {
    const t0 = now();
    const deadline = t0 + (opts.budgetMs || 10000);
    const perpetualOn = opts.perpetual !== false;
    const info = { scrolled: 0 };
    if (document.fonts) await within(document.fonts.ready, deadline - now());
    info.eager = eagerMedia();
    if (opts.scroll && (S.observers || S.scrollListeners)) {
      info.scrolled = await scrollPass(deadline);
    }
    info.images = await images(deadline);
    if (document.fonts) await within(document.fonts.ready, deadline - now());
    info.timersLeft = await timers(deadline, perpetualOn);
    info.animations = await animations(deadline);
    if (opts.waitFor) info.waitFor = await selector(opts.waitFor, deadline);
    const kids = await childFrames(opts, deadline);
    info.frames = kids.length;
    await frames(2);
    const se = document.scrollingElement || document.documentElement;
    info.height = se.scrollHeight;
    info.perpetual = perpetualOn ? perpetualSummary() : [];
    for (const k of kids) {
      for (const p of (k && k.perpetual) || []) {
        if (!info.perpetual.includes(p)) info.perpetual.push(p);
      }
    }
    info.ms = Math.round(now() - t0);
    return info;
  };

  window.__snapcatMeta = function (textCap) {
    const body = document.body;
    let text = body ? body.innerText || '' : '';
    if (text.length > textCap) text = text.slice(0, textCap);
    return { title: document.title || '', url: location.href, text };
  };
})();
