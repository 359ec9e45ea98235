// The JSON API client: bearer key from localStorage, one error shape, blob URLs for stored objects.
const KEY = "hazardeye.key";
const BASE = "/api/v1";

export function getKey() {
  return localStorage.getItem(KEY) || "";
}
export function setKey(value) {
  localStorage.setItem(KEY, value.trim());
}
export function clearKey() {
  localStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function authHeaders(extra = {}) {
  return { Authorization: `Bearer ${getKey()}`, ...extra };
}

async function errorOf(response) {
  let code = `http_${response.status}`;
  let message = response.statusText || code;
  try {
    const body = await response.json();
    const d = body.detail;
    if (d && typeof d === "object" && !Array.isArray(d)) {
      code = d.error || code;
      message = d.message || message;
    } else if (Array.isArray(d)) {
      code = "invalid_input"; // FastAPI validation errors
      message = d.map((e) => `${(e.loc || []).slice(1).join(".")}: ${e.msg}`).join("; ");
    } else if (typeof d === "string") {
      message = d;
    }
  } catch {
    /* not JSON: keep the status text */
  }
  if (response.status === 401) window.dispatchEvent(new CustomEvent("hazardeye:unauthenticated"));
  return new ApiError(response.status, code, message);
}

/** Call ``path`` under /api/v1; ``json`` or ``form`` (FormData) becomes the body. Returns parsed JSON. */
export async function api(path, { method = "GET", json, form, headers = {}, signal } = {}) {
  const init = { method, headers: authHeaders(headers), signal };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  } else if (form !== undefined) {
    init.body = form;
  }
  const response = await fetch(BASE + path, init);
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

/** Like api() but also returns the HTTP status (uploads tell "created" 201 from "replayed" 200). */
export async function apiWithStatus(path, options = {}) {
  const { method = "POST", form, headers = {} } = options;
  const response = await fetch(BASE + path, { method, headers: authHeaders(headers), body: form });
  if (!response.ok) throw await errorOf(response);
  return { status: response.status, body: await response.json() };
}

const blobCache = new Map();

/** A blob: URL for a protected resource (images need the bearer header, so <img src> cannot fetch them). */
export async function blobUrl(path) {
  if (blobCache.has(path)) return blobCache.get(path);
  const response = await fetch(BASE + path, { headers: authHeaders() });
  if (!response.ok) throw await errorOf(response);
  const url = URL.createObjectURL(await response.blob());
  blobCache.set(path, url);
  return url;
}

export function objectUrl(key) {
  return blobUrl(`/objects/${encodeURIComponent(key)}`);
}

/** Fresh (uncached) blob URL, e.g. a camera's latest snapshot; the caller revokes the previous one. */
export async function freshBlobUrl(path) {
  const response = await fetch(BASE + path, { headers: authHeaders(), cache: "no-store" });
  if (!response.ok) throw await errorOf(response);
  return URL.createObjectURL(await response.blob());
}

/** Download a protected file (e.g. the CSV ledger) through a temporary link. */
export async function download(path, filename) {
  const response = await fetch(BASE + path, { headers: authHeaders() });
  if (!response.ok) throw await errorOf(response);
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * POST a multipart upload, retrying network failures and 5xx answers with the SAME Idempotency-Key, so a
 * flaky site connection never creates the photo twice. ``onAttempt(n, waitSeconds|null)`` reports progress.
 */
export async function uploadWithRetry(path, form, { idempotencyKey, attempts = 6, onAttempt = () => {} }) {
  let lastError = null;
  for (let n = 1; n <= attempts; n += 1) {
    onAttempt(n, null);
    try {
      return await apiWithStatus(path, { form, headers: { "Idempotency-Key": idempotencyKey } });
    } catch (err) {
      const retriable = !(err instanceof ApiError) || err.status >= 500;
      if (!retriable || n === attempts) throw err;
      lastError = err;
      const wait = Math.min(2 ** (n - 1), 15);
      onAttempt(n + 1, wait);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
  }
  throw lastError;
}
