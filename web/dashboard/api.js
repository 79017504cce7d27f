// api.js - every call to the cxm API: same-origin fetch with the session
// cookie, the CSRF token on each state-changing request, errors as ApiError.
// The token lives in this module's memory only (the sign-in and GET
// /v1/session answers carry it); the API key is never kept.

let csrf = null;
let onSignedOut = null;

// An error answer: HTTP status, the API's code, message and (for a 400)
// the field or member it is about (e.g. "rules[2].when"), else undefined.
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export function setCsrf(token) { csrf = token; }

// fn() is called when a data request answers 401: the session ended.
export function onUnauthorized(fn) { onSignedOut = fn; }

// A query string from an object, skipping empty values: "?a=1&b=x".
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// body: an object (sent as JSON) or a string of JSON sent as it is (a
// document the user edited); undefined for none.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let doc = null;
  try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = null; }
  if (!res.ok) {
    const err = (doc && doc.error) || {};
    if (res.status === 401 && !path.startsWith('/v1/session') && onSignedOut) onSignedOut();
    throw new ApiError(res.status, err.code || 'http', err.message || `${res.status} ${res.statusText}`,
      err.field);
  }
  return doc;
}

export const get = (path, params) => api('GET', path + query(params));
