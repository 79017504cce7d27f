// app.js - the dashboard's entry: display preferences, sign-in (an API key
// exchanged for a session cookie), the app shell and the router: the page
// is the URL's `page` parameter (none: Overview), and the nav shows the
// pages the session's role may use. See docs/dashboard.md.
//
// A page is a module with ROLES (null: every role) and an async
// mount(main, role) that fills main (its markup from dom.js template())
// and resolves {redraw(), unmount(), pop()?}: redraw after a display mode
// changed colours or sizes, pop when back or forward changed the URL's
// query but not the page.

import { api, ApiError, onUnauthorized, setCsrf } from './api.js';
import * as cases from './cases.js';
import * as customers from './customers.js';
import * as feedback from './feedback.js';
import * as journeys from './journeys.js';
import * as overview from './overview.js';
import * as segments from './segments.js';
import * as settings from './settings.js';
import * as team from './team.js';

const root = document.documentElement;
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOutBtn = document.getElementById('sign-out');
let page = null;   // the mounted page: {redraw, unmount, pop?}
let route = null;  // its name
let role = null;   // the session's role
let mounting = 0;  // bumped by every mount, so a slow one that lost the race is dropped

const PAGES = { overview, journeys, feedback, customers, cases, segments, team, settings };
const allowed = (name) => !PAGES[name].ROLES || PAGES[name].ROLES.includes(role);

function routeOf() {
  const p = new URLSearchParams(location.search).get('page') || 'overview';
  return PAGES[p] && allowed(p) ? p : 'overview';
}

function showNav() {
  for (const a of nav.querySelectorAll('a[data-page]')) {
    const name = a.dataset.page;
    a.parentElement.hidden = !allowed(name);
    if (name === route) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function mountRoute(focus) {
  if (page) page.unmount();
  page = null;
  route = routeOf();
  showNav();
  const mine = ++mounting;
  try {
    const p = await PAGES[route].mount(main, role);
    if (mine !== mounting) {
      p.unmount();
      return;
    }
    page = p;
  } catch (e) {
    if (mine !== mounting) return;
    main.replaceChildren(Object.assign(document.createElement('h1'), { tabIndex: -1, textContent: 'cxm' }),
      Object.assign(document.createElement('p'), { className: 'error', textContent: `Could not show the page: ${e.message}` }));
  }
  if (focus) main.querySelector('h1').focus();
}

nav.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-page]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  history.pushState(null, '', a.getAttribute('href'));
  mountRoute(true);
});

window.addEventListener('popstate', () => {
  if (!route) return;
  const r = routeOf();
  if (r !== route) mountRoute(false);
  else if (page && page.pop) page.pop();
});

// ---- display preferences: classes on <html>, kept in localStorage --------

const PREFS = [
  { id: 'pref-large', cls: 'large-text', key: 'cxm.largeText' },
  { id: 'pref-contrast', cls: 'high-contrast', key: 'cxm.highContrast' },
];

function stored(key) {
  try { return localStorage.getItem(key) === '1'; } catch (e) { return false; }
}

function setPref(p, on) {
  root.classList.toggle(p.cls, on);
  document.getElementById(p.id).setAttribute('aria-pressed', String(on));
  try { localStorage.setItem(p.key, on ? '1' : '0'); } catch (e) { /* private mode */ }
}

for (const p of PREFS) {
  setPref(p, stored(p.key));
  document.getElementById(p.id).addEventListener('click', () => {
    setPref(p, !root.classList.contains(p.cls));
    if (page) page.redraw();
  });
}

// ---- sign-in and the shell -------------------------------------------------

function unmount() {
  mounting++;
  if (page) page.unmount();
  page = null;
  route = null;
}

function showSignIn(note) {
  unmount();
  setCsrf(null);
  nav.hidden = true;
  signOutBtn.hidden = true;
  document.title = 'Sign in · cxm';
  main.replaceChildren(document.getElementById('t-sign-in').content.cloneNode(true));
  const form = main.querySelector('#sign-in');
  const input = form.elements.key;
  const error = main.querySelector('#api-key-error');
  main.querySelector('#sign-in-note').textContent = note || '';
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    if (!key) {
      error.textContent = 'Enter your API key.';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    try {
      const s = await api('POST', '/v1/session', { key });
      input.value = '';
      showApp(s, true);
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401
        ? 'That API key is not valid. Check it and try again.'
        : `Could not sign in: ${err.message}`;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  });
  if (note) main.querySelector('h1').focus();
}

function showApp(session, focus) {
  unmount();
  setCsrf(session.csrf);
  nav.hidden = false;
  signOutBtn.hidden = false;
  role = session.role;
  mountRoute(focus);
}

signOutBtn.addEventListener('click', async () => {
  try {
    await api('DELETE', '/v1/session');
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) {
      window.alert(`Could not sign out: ${e.message}`);
      return;
    }
  }
  history.replaceState(null, '', '/');
  showSignIn('You have signed out.');
});

// Once, however many of the page's requests find the session gone.
onUnauthorized(() => { if (page) showSignIn('Your session has ended. Sign in again.'); });

async function start() {
  try {
    showApp(await api('GET', '/v1/session'), false);
  } catch (e) {
    showSignIn(e instanceof ApiError && e.status === 401 ? '' : `The server did not answer: ${e.message}`);
  }
}

start();
