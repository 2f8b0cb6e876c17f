// The gateway's /v1 API: bearer token, the error envelope, and Server-Sent Events over fetch
// (EventSource cannot send an Authorization header, and /v1/chat is a POST).

const TOKEN_KEY = "habyss.token";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function token() {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}

function headers(extra = {}) {
  const out = { ...extra };
  const bearer = token();
  if (bearer) out.Authorization = `Bearer ${bearer}`;
  return out;
}

async function failure(response) {
  let code = "http_error";
  let message = `The server answered ${response.status}.`;
  let details = null;
  try {
    const body = await response.json();
    if (body && body.error) ({ code, message, details } = body.error);
  } catch {
    // Not the envelope (a proxy's page, say): the status line says enough.
  }
  if (response.status === 401) {
    setToken(null);
    window.dispatchEvent(new CustomEvent("habyss:signed-out"));
  }
  return new ApiError(response.status, code, message, details);
}

export async function api(method, path, body, { signal } = {}) {
  const init = { method, headers: headers({ Accept: "application/json" }), signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(`/v1${path}`, init);
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}

// Splits a text/event-stream body into {event, data, id} records as they arrive.
async function* records(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const record = { event: "message", data: "", id: null };
      const data = [];
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") record.event = text;
        else if (field === "data") data.push(text);
        else if (field === "id") record.id = text;
      }
      if (data.length) {
        record.data = JSON.parse(data.join("\n"));
        yield record;
      }
    }
  }
}

// Opens an SSE stream and yields its records; throws ApiError for an error status.
export async function* stream(method, path, body, { signal } = {}) {
  const init = { method, headers: headers({ Accept: "text/event-stream" }), signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(`/v1${path}`, init);
  if (!response.ok) throw await failure(response);
  yield* records(response.body);
}
