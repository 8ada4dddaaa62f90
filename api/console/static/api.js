// The API client: the token lives in sessionStorage (gone when the tab closes)
// and travels only in the Authorization header, never in a URL (URLs end up in
// access logs and browser history).
const BASE = "/api/v1";
const TOKEN_KEY = "vigil.token";
const ROLES = ["viewer", "technician", "oncall", "admin"];

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem("vigil.me");
}

export function me() {
  const raw = sessionStorage.getItem("vigil.me");
  return raw ? JSON.parse(raw) : null;
}

/** Whether the signed-in token's role reaches `needed` (viewer < technician < oncall < admin). */
export function can(needed) {
  const who = me();
  return who !== null && ROLES.indexOf(who.role) >= ROLES.indexOf(needed);
}

async function request(method, path, body, secret = token()) {
  const headers = { Authorization: `Bearer ${secret}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, data?.detail ?? response.statusText);
  return data;
}

/** Check a token and keep it for this tab. */
export async function signIn(secret) {
  const who = await request("GET", "/tokens/me", undefined, secret);
  sessionStorage.setItem(TOKEN_KEY, secret);
  sessionStorage.setItem("vigil.me", JSON.stringify(who));
  return who;
}

export const get = (path) => request("GET", path);
export const post = (path, body) => request("POST", path, body);

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const item of [].concat(value)) if (item !== null && item !== undefined && item !== "") search.append(key, item);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/**
 * Follow /api/v1/stream with fetch() and a streaming body reader (EventSource
 * cannot send an Authorization header). Reconnects with Last-Event-ID after
 * the server's retry delay, so nothing is missed while the line was down.
 * Returns a function that stops it.
 */
export function followStream({ onEvent, onStatus }) {
  const stop = new AbortController();
  let lastEventId = null;
  let retryMs = 3000;

  function dispatch(block) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
      else if (field === "id") lastEventId = value;
      else if (field === "retry" && /^\d+$/.test(value)) retryMs = Number(value);
    }
    if (data.length) onEvent(event, JSON.parse(data.join("\n")));
  }

  async function connect() {
    const headers = { Authorization: `Bearer ${token()}`, Accept: "text/event-stream" };
    if (lastEventId) headers["Last-Event-ID"] = lastEventId;
    const response = await fetch(`${BASE}/stream`, { headers, signal: stop.signal, cache: "no-store" });
    if (response.status === 401) throw new ApiError(401, "token refused");
    if (!response.ok || !response.body) throw new ApiError(response.status, "stream refused");
    onStatus("live");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  (async () => {
    while (!stop.signal.aborted) {
      try {
        await connect();
      } catch (error) {
        if (stop.signal.aborted) return;
        if (error instanceof ApiError && error.status === 401) {
          onStatus("refused");
          return;
        }
      }
      if (stop.signal.aborted) return;
      onStatus("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  })();
  return () => stop.abort();
}
