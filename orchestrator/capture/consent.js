// consent.js — snapcat's page clean-up before the screenshot: cookie/consent
// banners and the selectors a capture asks to hide. Embedded into the binary
// at build time (orchestrator/capture/embed.cmake -> capture_consent_js) and
// evaluated in the ready page by capture_consent.c, which then calls
//   window.__snapcatTidy({consent: true|false, hide: ["sel", ...]})
// -> {handled: "onetrust"|null, action: "accepted"|"hidden"|"none"|"off",
//     matched: ["onetrust", ...], hidden: <selectors hidden>}
//
// THE RULES (RULES below) are the one place where consent frameworks are
// known. Each rule:
//   id      short name reported on the snapshot (consent.handled)
//   detect  CSS selector(s) of the banner; the rule applies when one of
//           them is visible (size > 1 px, not display:none / hidden / 0
//           opacity)
//   accept  CSS selector(s) of its "accept" button (optional); clicked when
//           visible, then the banner must be gone within ACCEPT_WAIT_MS
//   hide    selectors hidden (display:none!important) when there is no
//           accept button or the banner stayed; default: detect
//   shadow  (optional) selector of a host whose open shadowRoot holds the
//           banner and its buttons (Usercentrics); the host is hidden
//   unlock  (optional) classes the framework puts on <html>/<body> to stop
//           scrolling; removed after the banner is handled
//   after   (optional) selectors hidden once the rule acted, accepted or
//           not: what the library leaves (a "cookie settings" tab, a
//           fading overlay)
//   generic (optional) true: a catch-all; the banner must be position
//           fixed/sticky (or inside such an element), and the accept button
//           is found by its text (ACCEPT_TEXT) inside the banner. When no
//           selector matches, a wide search (broadBanner) takes any
//           fixed/sticky element or aria dialog whose text speaks of
//           cookies/consent/privacy (CONSENT_TEXT) and that has an accept
//           button (a dialog may have none)
// Rules are tried in order; every one that finds a visible banner acts
// (a page can carry two). The first one that acted is "handled"; generic
// rules are skipped once a specific rule acted.
// To add a framework: open a page that shows it, find the banner's container
// and its accept button in the DevTools, add a rule before the generic ones,
// add a fixture to tests/fixtures/fixture_server.c (/consent?fw=...) and a
// case to tests/node/options.test.js. Whatever acted, scroll locks are
// removed from <html> and <body> (overflow hidden, position fixed, the
// rule's unlock classes) so that the full page can be captured, and a
// see-through layer over the whole viewport with no text (a modal's dark
// overlay) is hidden.
(() => {
  const ACCEPT_WAIT_MS = 1500;
  const ACCEPT_TEXT = new RegExp('^\\s*(?:ok(?:ay)?[,!]?\\s*)?(?:'
    + 'accept|accept all|accept all cookies|accept cookies|accept and close|accept & close|accept and continue|'
    + 'allow|allow all|allow all cookies|allow cookies|agree|i agree|agree and close|agree and continue|'
    + 'i accept|ok|okay|got it|i understand|understood|yes, i agree|yes|that\'s ok|continue|'
    + 'alle akzeptieren|alle cookies akzeptieren|akzeptieren|alle zulassen|zustimmen|alle annehmen|annehmen|'
    + 'einverstanden|ich stimme zu|verstanden|'
    + 'tout accepter|accepter|accepter et fermer|accepter tout|j\'accepte|d\'accord|ok pour moi|'
    + 'aceptar|aceptar todo|aceptar todas|aceptar cookies|acepto|de acuerdo|'
    + 'accetta|accetta tutti|accetto|accetta e chiudi|'
    + 'accepteren|alles accepteren|akkoord|ik ga akkoord|'
    + 'aceitar|aceitar todos|aceito|concordo|'
    + 'godkänn|godkänn alla|acceptera|acceptera alla|accepter alle|accepter alle cookies|godta|godta alle|'
    + 'hyväksy|hyväksy kaikki|zaakceptuj|akceptuję|akceptuj wszystkie|zgadzam się|'
    + 'souhlasím|přijmout vše|elfogadom|összes elfogadása|accept toate|sunt de acord|'
    + 'kabul et|tümünü kabul et|принять|принять все|согласен|прийняти|'
    + '同意|接受|全部接受|すべて同意|同意する|동의|모두 동의'
    + ')\\s*[.!]?\\s*$', 'i');
  // Words a consent banner's text carries (the broad generic search).
  const CONSENT_TEXT = /cookie|consent|gdpr|privacy|datenschutz|confidentialit|privacidad|privacit|privacy|rgpd|dsgvo|traceurs|galletas|informativa|integritet|personvern|prywatno|súhlas|souhlas|adatvédel|クッキー|隐私|쿠키/i;

  const RULES = [
    { id: 'onetrust', detect: '#onetrust-banner-sdk, #onetrust-pc-sdk',
      accept: '#onetrust-accept-btn-handler, #accept-recommended-btn-handler',
      hide: '#onetrust-consent-sdk, #onetrust-banner-sdk, .onetrust-pc-dark-filter' },
    { id: 'cookiebot', detect: '#CybotCookiebotDialog',
      accept: '#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll, '
        + '#CybotCookiebotDialogBodyButtonAccept, #CybotCookiebotDialogBodyLevelButtonAccept',
      hide: '#CybotCookiebotDialog, #CybotCookiebotDialogBodyUnderlay',
      unlock: ['CookiebotDialogActive'] },
    { id: 'didomi', detect: '#didomi-notice, #didomi-host .didomi-popup-container',
      accept: '#didomi-notice-agree-button, .didomi-popup-container .didomi-button-highlight',
      hide: '#didomi-host, #didomi-notice', unlock: ['didomi-popup-open'] },
    { id: 'quantcast', detect: '#qc-cmp2-container .qc-cmp2-summary-buttons, #qc-cmp2-ui, .qc-cmp2-container',
      accept: '.qc-cmp2-summary-buttons button[mode=primary], #qc-cmp2-ui button[mode=primary]',
      hide: '#qc-cmp2-container, .qc-cmp2-container, #qc-cmp2-ui', unlock: ['qc-cmp-ui-showing'] },
    { id: 'trustarc', detect: '#truste-consent-track, #consent_blackbar, .truste_box_overlay',
      accept: '#truste-consent-button',
      hide: '#consent_blackbar, #truste-consent-track, .truste_box_overlay, .truste_overlay' },
    { id: 'usercentrics', shadow: '#usercentrics-root, #usercentrics-cmp-ui',
      detect: '[data-testid=uc-default-banner], [data-testid=uc-banner-content], #uc-center-container, .uc-banner',
      accept: '[data-testid=uc-accept-all-button], #accept',
      hide: '#usercentrics-root, #usercentrics-cmp-ui' },
    { id: 'osano', detect: '.osano-cm-window .osano-cm-dialog:not(.osano-cm-dialog--hidden)',
      accept: '.osano-cm-accept-all, .osano-cm-button--type_accept, .osano-cm-accept',
      hide: '.osano-cm-window, .osano-cm-dialog' },
    { id: 'complianz', detect: '.cmplz-cookiebanner:not(.cmplz-hidden), #cmplz-cookiebanner-container .cmplz-cookiebanner',
      accept: '.cmplz-cookiebanner .cmplz-accept, #cmplz-cookiebanner-container .cmplz-accept',
      hide: '#cmplz-cookiebanner-container, .cmplz-cookiebanner, .cmplz-soft-cookiewall' },
    { id: 'cookieyes', detect: '.cky-consent-container, #cookie-law-info-bar',
      accept: '.cky-btn-accept, #cookie_action_close_header, #wt-cli-accept-all-btn',
      hide: '.cky-consent-container, .cky-overlay, .cky-modal, #cookie-law-info-bar' },
    { id: 'klaro', detect: '.klaro .cookie-notice:not(.cookie-notice-hidden), .klaro .cookie-modal',
      accept: '.klaro .cm-btn-accept-all, .klaro .cm-btn-success',
      hide: '.klaro' },
    { id: 'sourcepoint', detect: '[id^=sp_message_container_], .message-overlay[id^=sp_message]',
      hide: '[id^=sp_message_container_], .message-overlay',
      unlock: ['sp-message-open'] },
    { id: 'funding-choices', detect: '.fc-consent-root, .fc-dialog-container',
      accept: '.fc-cta-consent, .fc-button.fc-cta-consent',
      hide: '.fc-consent-root, .fc-dialog-overlay, .fc-ab-root', unlock: ['fc-consent-root-open'] },
    { id: 'iubenda', detect: '#iubenda-cs-banner',
      accept: '.iubenda-cs-accept-btn', hide: '#iubenda-cs-banner',
      unlock: ['iubenda-cs-visible'] },
    { id: 'cookieconsent', detect: '.cc-window:not(.cc-invisible), .cc-banner:not(.cc-invisible)',
      accept: '.cc-window .cc-allow, .cc-window .cc-dismiss, .cc-btn.cc-allow',
      hide: '.cc-window, .cc-banner, .cc-revoke', after: '.cc-revoke' },
    // vanilla-cookieconsent 3 (orestbida): #cc-main holds the consent
    // modal (.cm: bar, box, cloud), the preferences modal (.pm) and the
    // disablePageInteraction overlay; its classes on <html> lock the page
    { id: 'vanilla-cookieconsent', detect: '#cc-main .cm, #cc-main .pm',
      accept: '#cc-main .cm__btn[data-role=all], #cc-main .pm__btn[data-role=all]',
      hide: '#cc-main', after: '#cc-main',
      unlock: ['disable--interaction', 'show--consent', 'show--preferences'] },
    { id: 'tarteaucitron', detect: '#tarteaucitronAlertBig, #tarteaucitronRoot #tarteaucitron',
      accept: '#tarteaucitronPersonalize2, #tarteaucitronAlertBig .tarteaucitronAllow',
      hide: '#tarteaucitronRoot', after: '#tarteaucitronBack, #tarteaucitronAlertSmall',
      unlock: ['tarteaucitron-modal-open-noscroll', 'tarteaucitron-modal-open'] },
    // orejime: a banner with Accept, or a modal (forceModal) that has no
    // one-click accept: hidden
    { id: 'orejime', detect: '.orejime-Banner, .orejime-ModalWrapper, .orejime-ModalOverlay',
      accept: '.orejime-Banner-saveButton',
      hide: '.orejime-Banner, .orejime-ModalOverlay, .orejime-ModalWrapper, .orejime-Modal',
      unlock: ['orejime-Env-modalOpen', 'orejime-modalOpen'] },
    { id: 'generic', generic: true,
      detect: '[id*=cookie-banner i], [class*=cookie-banner i], [id*=cookie-consent i], '
        + '[class*=cookie-consent i], [id*=cookie-notice i], [class*=cookie-notice i], '
        + '[id*=cookiebanner i], [class*=cookiebanner i], [id*=consent-banner i], '
        + '[class*=consent-banner i], [id*=gdpr i][class*=banner i], '
        + '[role=dialog][aria-label*=cookie i], [role=dialog][aria-label*=consent i], '
        + '[id*=cookies-eu i], [id*=cookie i][id*=bar i], [class*=cookie i][class*=bar i], '
        + '[id*=cookie i][id*=popup i], [class*=cookie i][class*=popup i], [id*=consent i][class*=modal i], '
        + '[aria-labelledby*=cookie i], [aria-describedby*=cookie i]' },
  ];

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));

  function visible(el) {
    if (!el || !el.isConnected) return false;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden' || Number(cs.opacity) === 0) return false;
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1;
  }

  function all(root, sel) {
    try { return root ? [...root.querySelectorAll(sel)] : []; } catch { return []; }
  }

  function scope(rule) {
    if (!rule.shadow) return document;
    const host = all(document, rule.shadow).find((h) => h.shadowRoot);
    return host ? host.shadowRoot : null;
  }

  function pinned(el) {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      const p = getComputedStyle(e).position;
      if (p === 'fixed' || p === 'sticky') return true;
    }
    return false;
  }

  function banner(rule) {
    const el = all(scope(rule), rule.detect)
      .find((e) => visible(e) && (!rule.generic || pinned(e))) || null;
    return el || (rule.generic ? broadBanner(rule) : null);
  }

  // The generic rule's wide search, for banners no selector names: the
  // outermost fixed/sticky element (or an aria dialog) whose text speaks of
  // cookies, consent or privacy (CONSENT_TEXT, many languages) and that has
  // an accept button (ACCEPT_TEXT) — or, for a dialog, none. Walks at most
  // WALK_MAX elements; a pinned element's subtree is not walked again.
  const WALK_MAX = 20000;
  function broadBanner(rule) {
    if (!document.body) return null;
    const w = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT);
    let n = 0;
    let el = w.nextNode();
    while (el && n++ < WALK_MAX) {
      const pos = getComputedStyle(el).position;
      const role = el.getAttribute('role');
      const dialog = role === 'dialog' || role === 'alertdialog' || el.getAttribute('aria-modal') === 'true';
      if ((pos === 'fixed' || pos === 'sticky' || dialog) && visible(el)
          && CONSENT_TEXT.test((el.innerText || '').slice(0, 4000))
          && (dialog || acceptButton(rule, el))) return el;
      if (pos === 'fixed' || pos === 'sticky') { // skip its subtree
        let next = null;
        for (let e = el; e && e !== document.body && !next; e = e.parentElement) next = e.nextElementSibling;
        w.currentNode = next || document.body;
        el = next;
        continue;
      }
      el = w.nextNode();
    }
    return null;
  }

  // Once a banner was handled: a fixed, empty, see-through layer over the
  // whole viewport is its overlay (the dark filter of a consent modal):
  // hidden. Returns how many.
  function hideOverlays() {
    let n = 0;
    const vw = innerWidth, vh = innerHeight;
    for (const el of all(document, 'body *')) {
      if (n > 4) break;
      const cs = getComputedStyle(el);
      if (cs.position !== 'fixed' || !visible(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.width < vw * 0.9 || r.height < vh * 0.9) continue;
      if ((el.innerText || '').trim().length > 30) continue;
      const m = /rgba\([^)]*,\s*([\d.]+)\)/.exec(cs.backgroundColor);
      const seeThrough = m && Number(m[1]) > 0.02 && Number(m[1]) < 0.99;
      if (!seeThrough && cs.backdropFilter === 'none') continue;
      el.style.setProperty('display', 'none', 'important');
      n++;
    }
    return n;
  }

  function acceptButton(rule, el) {
    if (rule.accept) return all(scope(rule), rule.accept).find(visible) || null;
    if (!rule.generic) return null;
    return all(el, 'button, a, [role=button], input[type=button], input[type=submit]')
      .find((b) => visible(b) && ACCEPT_TEXT.test(b.innerText || b.value || '')) || null;
  }

  let sheet = null;
  function hideSelectors(list) {
    if (!sheet) {
      const st = document.createElement('style');
      st.id = 'snapcat-hide';
      (document.head || document.documentElement).appendChild(st);
      sheet = st.sheet;
    }
    let n = 0;
    for (const sel of list) {
      try {
        sheet.insertRule(`${sel}{display:none!important}`, sheet.cssRules.length);
        n++;
      } catch { /* an invalid selector hides nothing */ }
    }
    return n;
  }

  function hideBanner(rule, el) {
    const sels = (rule.shadow || rule.hide || (rule.generic ? '' : rule.detect))
      .split(',').map((s) => s.trim()).filter(Boolean);
    if (rule.hide && rule.shadow) sels.push(...rule.hide.split(',').map((s) => s.trim()));
    hideSelectors(sels);
    if (el && visible(el)) el.style.setProperty('display', 'none', 'important');
  }

  function unlock(classes) {
    for (const el of [document.documentElement, document.body]) {
      if (!el) continue;
      for (const c of classes) el.classList.remove(c);
      const cs = getComputedStyle(el);
      if (cs.overflow === 'hidden' || cs.overflowY === 'hidden' || cs.overflowY === 'clip') {
        el.style.setProperty('overflow', 'visible', 'important');
      }
      if (el === document.body && cs.position === 'fixed') {
        el.style.setProperty('position', 'static', 'important');
      }
    }
  }

  async function settleAccept(rule, el) {
    const end = performance.now() + ACCEPT_WAIT_MS;
    while (performance.now() < end) {
      if (!visible(el) && !banner(rule)) return true;
      await sleep(50);
    }
    return false;
  }

  async function handle(rule, el) {
    const btn = acceptButton(rule, el);
    if (btn) {
      try { btn.click(); } catch { /* a page's handler threw: hide below */ }
      if (await settleAccept(rule, el)) return 'accepted';
    }
    hideBanner(rule, el);
    return 'hidden';
  }

  async function consent() {
    const out = { handled: null, action: 'none', matched: [] };
    const classes = [];
    for (const rule of RULES) {
      if (rule.generic && out.matched.length) continue;
      const el = banner(rule);
      if (!el) continue;
      const action = await handle(rule, el);
      if (rule.after) hideSelectors(rule.after.split(',').map((x) => x.trim()));
      out.matched.push(rule.id);
      if (!out.handled) {
        out.handled = rule.id;
        out.action = action;
      }
      classes.push(...(rule.unlock || []));
    }
    if (out.matched.length) {
      unlock(classes);
      hideOverlays();
    }
    return out;
  }

  window.__snapcatTidy = async function (opts) {
    const out = opts.consent ? await consent()
      : { handled: null, action: 'off', matched: [] };
    out.hidden = opts.hide && opts.hide.length ? hideSelectors(opts.hide) : 0;
    await frame();
    await frame();
    return out;
  };
})();
