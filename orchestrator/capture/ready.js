// ready.js — snapcat's in-page readiness probe, injected into every document
// of a capture with Page.addScriptToEvaluateOnNewDocument (before any page
// script runs). It only observes, except for two deliberate changes: native
// lazy images/iframes are switched to eager loading, and the page is scrolled
// through when it uses IntersectionObserver or scroll listeners, so that lazy
// content is in the archive. The C side (capture_ready.c) calls
// window.__snapcatSettle(opts) after the load event and, in between rounds,
// checks that no network request is in flight.
//
// Settle, in order, each step bounded by opts.budgetMs overall:
//   fonts.ready -> eager lazy media -> scroll pass (if needed) -> images
//   complete and decoded -> short timers drained -> finite animations
//   finished -> two animation frames.
(() => {
  if (window.__snapcatSettle) return;
  const SHORT_TIMER_MS = 2500;
  const S = { liveTimers: new Set(), observers: 0, scrollListeners: 0 };
  const realSetTimeout = window.setTimeout.bind(window);
  const realClearTimeout = window.clearTimeout.bind(window);
  const now = () => performance.now();

  // Count one-shot timers that will fire soon: content rendered "after a
  // delay" is usually a setTimeout. Intervals are never waited for.
  window.setTimeout = function (fn, delay, ...args) {
    const d = Number(delay) || 0;
    if (typeof fn !== 'function' || d > SHORT_TIMER_MS) {
      return realSetTimeout(fn, delay, ...args);
    }
    const id = realSetTimeout(function () {
      S.liveTimers.delete(id);
      return fn.apply(this, args);
    }, d);
    S.liveTimers.add(id);
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

  async function timers(deadline) {
    while (S.liveTimers.size && now() < deadline) await sleep(20);
    return S.liveTimers.size;
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

  window.__snapcatSettle = async function (opts) {
    const t0 = now();
    const deadline = t0 + (opts.budgetMs || 10000);
    const info = { scrolled: 0 };
    if (document.fonts) await within(document.fonts.ready, deadline - now());
    info.eager = eagerMedia();
    if (opts.scroll && (S.observers || S.scrollListeners)) {
      info.scrolled = await scrollPass(deadline);
    }
    info.images = await images(deadline);
    if (document.fonts) await within(document.fonts.ready, deadline - now());
    info.timersLeft = await timers(deadline);
    info.animations = await animations(deadline);
    await frames(2);
    const se = document.scrollingElement || document.documentElement;
    info.height = se.scrollHeight;
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
