// Calls to the mock's API and control plane, with the token the user signed in with.
//
// The token lives in sessionStorage only: it is gone when the tab closes, it never goes
// into a URL or a cookie, and it is sent to this origin alone.

const TOKEN_KEY = 'qstash-mock-console.token';

/** A refusal from the mock: its HTTP status and its `{"error"}` message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function signedIn() {
  return sessionStorage.getItem(TOKEN_KEY) !== null;
}

export function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Sends one request to the mock. `query` is a list of [name, value] pairs (empty values
 * are left out); `body` is sent as JSON. Resolves to the parsed answer, rejects with an
 * ApiError carrying the mock's own message.
 */
export async function call(method, path, { query = [], body } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of query) {
    if (value !== undefined && value !== null && value !== '') {
      url.searchParams.append(name, value);
    }
  }
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}` };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch (error) {
    throw new ApiError(0, `the mock did not answer (${error.message}); is it still running?`);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text === '' ? null : JSON.parse(text);
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = data && typeof data.error === 'string' ? data.error : text.slice(0, 200);
    throw new ApiError(response.status, message || `HTTP ${response.status}`);
  }
  return data;
}

export const get = (path, query) => call('GET', path, { query });
export const post = (path, body, query) => call('POST', path, { body, query });
export const put = (path, body) => call('PUT', path, { body });
export const del = (path, query) => call('DELETE', path, { query });

/** A path segment, encoded so an id with `/` or `?` cannot change the route. */
export function segment(value) {
  return encodeURIComponent(value);
}
