// journeys.js - placeholder while the page is written.
import { el } from './dom.js';

export const ROLES = ['admin'];

export async function mount(main) {
  const h = el('h1', '', 'journeys');
  h.tabIndex = -1;
  main.replaceChildren(h);
  return { redraw() {}, unmount() {} };
}
