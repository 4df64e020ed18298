// stealth.js — what a page, and each of its iframes, sees of the browser:
// an ordinary Chrome, not an automated headless one. Embedded into the
// binary at build time (orchestrator/capture/embed.cmake ->
// capture_stealth_js) and given to every page and iframe target of a
// capture with Page.addScriptToEvaluateOnNewDocument (capture_stealth.c),
// so it runs before the page's own scripts, in every frame.
//
// The user agent and its client hints are not here: they are set per
// target by Emulation.setUserAgentOverride (capture_stealth.c), which also
// reaches workers and the HTTP headers. A script can only fix what the
// browser gives away to scripts, and each fix applies only when the signal
// is there: on Debian's Chromium launched by snapcat (with
// --disable-blink-features=AutomationControlled, cdp/launch.c) none is, and
// this script changes nothing. On a remote endpoint (a browser started by
// someone else, or an older headless build) it makes:
//   navigator.webdriver        false instead of true
//   navigator.languages        [language, its base] instead of []
//   window.chrome              {app, csi, loadTimes} when missing
//   navigator.plugins/mimeTypes Chrome's five PDF viewers when empty
//   permissions.query          'notifications' agrees with
//                              Notification.permission ("denied" vs
//                              "prompt" is a headless tell)
// Workers get no script (there is no "new document" there): their
// navigator has no webdriver, and the user agent override reaches them.
// A page that reads a patched getter's source can tell it was patched;
// the native fix is the launch flag above on the remote browser too.
(() => {
  const define = (obj, name, get) => {
    try {
      Object.defineProperty(obj, name, { get, configurable: true, enumerable: true });
    } catch { /* a frozen prototype: leave it */ }
  };
  // A getter named like a native one ("get webdriver").
  const getter = (name, fn) => Object.getOwnPropertyDescriptor({ get [name]() { return fn(); } }, name).get;
  const NavProto = Object.getPrototypeOf(navigator);

  if (navigator.webdriver) define(NavProto, 'webdriver', getter('webdriver', () => false));

  if (!navigator.languages || !navigator.languages.length) {
    const lang = navigator.language || 'en-US';
    const list = Object.freeze(lang.includes('-') ? [lang, lang.split('-')[0]] : [lang]);
    define(NavProto, 'languages', getter('languages', () => list));
  }

  if (!window.chrome) {
    const t0 = performance.timeOrigin / 1000;
    Object.defineProperty(window, 'chrome', {
      value: {
        app: {
          isInstalled: false,
          InstallState: { DISABLED: 'disabled', INSTALLED: 'installed', NOT_INSTALLED: 'not_installed' },
          RunningState: { CANNOT_RUN: 'cannot_run', READY_TO_RUN: 'ready_to_run', RUNNING: 'running' },
          getDetails() { return null; },
          getIsInstalled() { return false; },
          runningState() { return 'cannot_run'; },
        },
        csi() { return { startE: t0 * 1000, onloadT: Date.now(), pageT: performance.now(), tran: 15 }; },
        loadTimes() {
          return {
            requestTime: t0, startLoadTime: t0, commitLoadTime: t0, finishDocumentLoadTime: 0,
            finishLoadTime: 0, firstPaintTime: 0, firstPaintAfterLoadTime: 0, navigationType: 'Other',
            wasFetchedViaSpdy: false, wasNpnNegotiated: false, npnNegotiatedProtocol: 'unknown',
            wasAlternateProtocolAvailable: false, connectionInfo: 'http/1.1',
          };
        },
      },
      configurable: true, enumerable: true, writable: true,
    });
  }

  if (navigator.plugins && navigator.plugins.length === 0 && window.PluginArray) {
    const mk = (proto, props) => {
      const o = Object.create(proto);
      for (const [k, v] of Object.entries(props)) Object.defineProperty(o, k, { value: v, enumerable: true });
      return o;
    };
    const list = (proto, items, key) => {
      const o = Object.create(proto);
      items.forEach((it, i) => Object.defineProperty(o, i, { value: it, enumerable: true }));
      for (const it of items) Object.defineProperty(o, it[key], { value: it });
      Object.defineProperties(o, {
        length: { value: items.length },
        item: { value: (i) => items[i] || null },
        namedItem: { value: (n) => items.find((it) => it[key] === n) || null },
        [Symbol.iterator]: { value: () => items[Symbol.iterator]() },
      });
      if (proto === PluginArray.prototype) Object.defineProperty(o, 'refresh', { value: () => {} });
      return o;
    };
    const names = ['PDF Viewer', 'Chrome PDF Viewer', 'Chromium PDF Viewer',
      'Microsoft Edge PDF Viewer', 'WebKit built-in PDF'];
    const mimes = [];
    const plugins = names.map((name) => {
      const types = ['application/pdf', 'text/pdf'].map((type) => mk(MimeType.prototype,
        { type, suffixes: 'pdf', description: 'Portable Document Format' }));
      const p = mk(Plugin.prototype, { name, filename: 'internal-pdf-viewer',
        description: 'Portable Document Format', length: types.length });
      types.forEach((m, i) => {
        Object.defineProperty(p, i, { value: m, enumerable: true });
        Object.defineProperty(m, 'enabledPlugin', { value: p, enumerable: true });
      });
      if (!mimes.length) mimes.push(...types);
      return p;
    });
    const pa = list(PluginArray.prototype, plugins, 'name');
    const ma = list(MimeTypeArray.prototype, mimes, 'type');
    define(NavProto, 'plugins', getter('plugins', () => pa));
    define(NavProto, 'mimeTypes', getter('mimeTypes', () => ma));
  }

  const perms = window.Permissions && Permissions.prototype;
  if (perms && window.Notification && Notification.permission === 'denied') {
    const query = perms.query;
    const wrapped = {
      query(desc) {
        return query.call(this, desc).then((st) => {
          if (desc && desc.name === 'notifications' && st.state !== 'denied') {
            Object.defineProperty(st, 'state', { value: 'denied', enumerable: true });
          }
          return st;
        });
      },
    }.query;
    Object.defineProperty(perms, 'query', { value: wrapped, configurable: true, writable: true, enumerable: true });
  }
})();
