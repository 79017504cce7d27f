/* cxm survey widget (ES5, no dependencies). Embed with
   <script src="https://cx.example.com/s/widget.js" data-survey="ID"
           data-question="nps" async></script>
   Options: data-type="nps|csat", data-title, data-text, data-low,
   data-high, data-comment, data-send, data-close, data-lang. */
(function () {
  'use strict';
  var d = document, sc = d.currentScript || d.querySelector('script[data-survey]'), i;
  if (!sc || !sc.getAttribute('data-survey')) return;
  function attr(n, def) { var v = sc.getAttribute('data-' + n); return v ? v : def; }
  var survey = attr('survey'), qid = attr('question', 'nps');
  var csat = attr('type', qid === 'csat' ? 'csat' : 'nps') === 'csat';
  var lo = csat ? 1 : 0, hi = csat ? 5 : 10, base = (/^https?:\/\/[^\/?#]+/.exec(sc.src) || [''])[0];
  var T = {
    title: attr('title', 'Your opinion'),
    text: attr('text', csat ? 'How satisfied are you with us?' :
      'How likely are you to recommend us to a friend or colleague?'),
    low: attr('low', csat ? 'Very unsatisfied' : 'Not at all likely'),
    high: attr('high', csat ? 'Very satisfied' : 'Extremely likely'),
    comment: attr('comment', 'Anything you would like to add? (optional)'),
    send: attr('send', 'Send'), close: attr('close', 'Close'),
    choose: 'Please choose a number.', fail: 'Sorry, that did not work. Please try again.'
  };
  var KEY = 'cxm_visitor', DONE = 'cxm_done_' + survey + '_' + qid;
  function store(k, v) {
    try { if (v === undefined) return localStorage.getItem(k); localStorage.setItem(k, v); }
    catch (e) { return null; }
  }
  if (+store(DONE) > Date.now() - 90 * 864e5) return;
  function visitor() {
    var v = store(KEY), b = new Uint8Array(16), c = window.crypto, j;
    if (v && /^[0-9a-f]{32}$/.test(v)) return v;
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (j = 0; j < 16; j++) b[j] = Math.floor(Math.random() * 256);
    for (v = '', j = 0; j < 16; j++) v += (b[j] < 16 ? '0' : '') + b[j].toString(16);
    store(KEY, v);
    return v;
  }
  function el(tag, at, text, parent) {
    var e = d.createElement(tag), k;
    for (k in at) if (at.hasOwnProperty(k)) e.setAttribute(k, at[k]);
    if (text) e.appendChild(d.createTextNode(text));
    if (parent) parent.appendChild(e);
    return e;
  }
  var css = '.cxm-w{position:fixed;right:1rem;bottom:1rem;z-index:2147483000;box-sizing:border-box;' +
    'width:22rem;max-width:calc(100vw - 2rem);max-height:calc(100vh - 2rem);overflow:auto;' +
    'padding:1rem;background:#fff;color:#1a1a1a;border:1px solid #5f6368;border-radius:.75rem;' +
    'font:16px/1.4 system-ui,sans-serif}' +
    '.cxm-w h2{font-size:1.1rem;margin:0 3rem .5rem 0}.cxm-w p{margin:0 0 .75rem}' +
    '.cxm-w button{font:inherit;min-width:44px;min-height:44px;border-radius:.5rem;cursor:pointer;' +
    'border:1px solid #5f6368;background:#fff;color:#1a1a1a}' +
    '.cxm-s{display:flex;flex-wrap:wrap;gap:.25rem}.cxm-s button{flex:1 0 auto;padding:0 .25rem}' +
    '.cxm-w button[aria-pressed=true],.cxm-w .cxm-go{background:#0b57d0;border-color:#0b57d0;color:#fff}' +
    '.cxm-x{position:absolute;top:.5rem;right:.5rem;font-size:1.25rem!important}' +
    '.cxm-e{display:flex;justify-content:space-between;gap:1rem;font-size:.875rem;color:#474747;margin:.25rem 0 .75rem}' +
    '.cxm-w label{display:block;margin-bottom:.25rem}.cxm-w textarea{box-sizing:border-box;width:100%;' +
    'min-height:4rem;font:inherit;padding:.5rem;border:1px solid #5f6368;border-radius:.25rem;margin-bottom:.75rem}' +
    '.cxm-w :focus-visible{outline:3px solid #1a1a1a!important;outline-offset:2px}' +
    '.cxm-m:empty{display:none}.cxm-m{font-weight:600}.cxm-w .cxm-err{color:#b3261e}';
  function show() {
    if (d.getElementById('cxm-w')) return;
    el('style', {}, css, d.head || d.documentElement);
    var before = d.activeElement, score = null, busy = false, btns = [];
    var w = el('section', {'class': 'cxm-w', id: 'cxm-w', 'aria-labelledby': 'cxm-w-h'});
    if (attr('lang')) w.setAttribute('lang', attr('lang'));
    var x = el('button', {type: 'button', 'class': 'cxm-x', 'aria-label': T.close}, '\u00d7', w);
    el('h2', {id: 'cxm-w-h'}, T.title, w);
    var f = el('form', {novalidate: ''}, null, w);
    el('p', {id: 'cxm-w-q'}, T.text, f);
    var g = el('div', {role: 'group', 'class': 'cxm-s', 'aria-labelledby': 'cxm-w-q'}, null, f);
    var ends = el('div', {'class': 'cxm-e'}, null, f);
    el('span', {id: 'cxm-w-lo'}, lo + ' = ' + T.low, ends);
    el('span', {id: 'cxm-w-hi'}, hi + ' = ' + T.high, ends);
    for (i = lo; i <= hi; i++) {
      var b = el('button', {type: 'button', 'aria-pressed': 'false', 'data-v': String(i)}, String(i), g);
      if (i === lo || i === hi) b.setAttribute('aria-describedby', i === lo ? 'cxm-w-lo' : 'cxm-w-hi');
      btns.push(b);
    }
    el('label', {'for': 'cxm-w-c'}, T.comment, f);
    var ta = el('textarea', {id: 'cxm-w-c', maxlength: '1000', rows: '3'}, null, f);
    el('button', {type: 'submit', 'class': 'cxm-go'}, T.send, f);
    var msg = el('p', {'class': 'cxm-m', role: 'status', tabindex: '-1'}, null, w);
    function say(text, bad) {
      msg.className = bad ? 'cxm-m cxm-err' : 'cxm-m';
      msg.textContent = text;
    }
    function close() {
      if (w.parentNode) w.parentNode.removeChild(w);
      if (before && before.focus && before !== d.body) before.focus();
    }
    g.onclick = function (e) {
      var t = e.target, j, v = t.getAttribute && t.getAttribute('data-v');
      if (!v) return;
      score = v;
      for (j = 0; j < btns.length; j++) btns[j].setAttribute('aria-pressed', btns[j] === t ? 'true' : 'false');
    };
    w.onkeydown = function (e) { if (e.keyCode === 27) close(); };
    x.onclick = close;
    f.onsubmit = function (e) {
      e.preventDefault();
      if (busy) return;
      if (score === null) { say(T.choose, true); btns[0].focus(); return; }
      var body = {question: qid, value: score, visitor: visitor()};
      if (ta.value.replace(/\s+/g, '')) body.comment = ta.value;
      var r = new XMLHttpRequest();
      busy = true;
      r.open('POST', base + '/v1/public/surveys/' + encodeURIComponent(survey) + '/answers');
      r.setRequestHeader('Content-Type', 'application/json');
      r.onload = function () {
        var res = null;
        busy = false;
        try { res = JSON.parse(r.responseText); } catch (err) { res = null; }
        if (r.status !== 201) {
          say(res && res.error && res.error.message ? res.error.message : T.fail, true);
          return;
        }
        store(DONE, String(Date.now()));
        w.removeChild(f);
        say(res && res.thanks ? res.thanks : 'Thank you!', false);
        msg.focus();
      };
      r.onerror = function () { busy = false; say(T.fail, true); };
      r.send(JSON.stringify(body));
    };
    d.body.appendChild(w);
  }
  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', show);
  else show();
})();
