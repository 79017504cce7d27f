// dom.js - small DOM helpers every page uses: el() builds an element,
// template(name) the page's markup from /app/NAME.html (fetched once, then
// kept), failure() the line shown where data could not be loaded.

const cache = new Map();

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

// The markup of /app/NAME.html as a fresh DocumentFragment. The files are
// ours, same-origin, and hold no script (the page's CSP allows none inline).
export async function template(name) {
  let html = cache.get(name);
  if (html === undefined) {
    const res = await fetch(`/app/${name}.html`, { credentials: 'same-origin' });
    if (!res.ok) throw new Error(`the ${name} page could not be loaded (${res.status})`);
    html = await res.text();
    cache.set(name, html);
  }
  const t = document.createElement('template');
  t.innerHTML = html;
  return t.content;
}

export const failure = (e) => el('p', 'error', `Could not load: ${e.message}`);
