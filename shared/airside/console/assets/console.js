// What every Airside console page shares: labels in English and Chinese, the token, REST calls and the
// live feed (docs/console.md, docs/feeds.md). Plain ES module, served as committed: no build step.
// Every URL is relative to the page (…/console/), so it works on the service and behind the gateway.

const TOKEN_KEY = "airside.console.token";
const LANG_KEY = "airside.console.lang";
// The feed's own reconnects (same EventSource) resume by Last-Event-ID; this wait is for a connection the
// browser gave up on (an HTTP error while the service restarts): a new one, then a fresh snapshot.
const RECONNECT_MS = [1000, 2000, 5000, 10000, 30000];

const labels = {
  en: {
    lang_toggle: "中文",
    token_label: "Access token",
    token_use: "Use token",
    token_dev: "Development token",
    token_dev_role: "Role",
    token_forget: "Sign out",
    token_none: "No token: paste one, or get a development token (make run only).",
    token_signed_in: "Signed in as {role} at {stations}, until {until}",
    token_expired: "The token expired: paste a new one or get another development token.",
    token_invalid: "That is not a token (three dot-separated parts).",
    dev_unavailable: "No development tokens here (only in make run).",
    feed_connecting: "Connecting…",
    feed_live: "Live",
    feed_reconnecting: "Reconnecting…",
    feed_closed: "Disconnected: retrying",
    feed_expired: "Token expired",
    feed_idle: "Not connected",
    error: "Error",
  },
  zh: {
    lang_toggle: "English",
    token_label: "访问令牌",
    token_use: "使用令牌",
    token_dev: "开发令牌",
    token_dev_role: "角色",
    token_forget: "退出",
    token_none: "没有令牌：请粘贴令牌，或获取开发令牌（仅限 make run）。",
    token_signed_in: "当前身份 {role}，站点 {stations}，有效期至 {until}",
    token_expired: "令牌已过期：请粘贴新令牌或重新获取开发令牌。",
    token_invalid: "这不是有效的令牌（应为以点分隔的三段）。",
    dev_unavailable: "此处不提供开发令牌（仅限 make run）。",
    feed_connecting: "连接中…",
    feed_live: "实时",
    feed_reconnecting: "重新连接中…",
    feed_closed: "连接已断开：正在重试",
    feed_expired: "令牌已过期",
    feed_idle: "未连接",
    error: "错误",
  },
};

export function addLabels(more) {
  for (const lang of Object.keys(labels)) Object.assign(labels[lang], more[lang]);
}

export function lang() {
  return sessionStorage.getItem(LANG_KEY) === "zh" ? "zh" : "en";
}

export function t(key, values = {}) {
  const text = labels[lang()][key] ?? labels.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

// Elements say which label they show: data-label (text), data-label-placeholder, data-label-aria.
export function applyLabels(root = document) {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  for (const element of root.querySelectorAll("[data-label]")) element.textContent = t(element.dataset.label);
  for (const element of root.querySelectorAll("[data-label-placeholder]")) element.placeholder = t(element.dataset.labelPlaceholder);
  for (const element of root.querySelectorAll("[data-label-aria]")) element.setAttribute("aria-label", t(element.dataset.labelAria));
  // The language button names the other language in that language: a screen reader should read it so.
  const toggle = document.getElementById("lang-toggle");
  if (toggle) toggle.lang = lang() === "zh" ? "en" : "zh-CN";
}

// A time of day in the browser's zone, or in `timeZone` (a station's) when given.
export function formatTime(value, timeZone = undefined) {
  if (!value) return "–";
  return new Date(value).toLocaleTimeString(lang() === "zh" ? "zh-CN" : "en-GB", { hour: "2-digit", minute: "2-digit", timeZone });
}

export function element(tag, attributes = {}, ...children) {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(made.dataset, value);
    else made.setAttribute(name, value === true ? "" : String(value));
  }
  made.append(...children.filter((child) => child !== null && child !== undefined).map((child) => (child instanceof Node ? child : String(child))));
  return made;
}

// The newest version seen of each record (visit, ticket, order), so a frame older than what the page holds, or a
// snapshot read before a frame, never undoes a newer change.
export class Versions {
  constructor() {
    this.seen = new Map();
  }

  outdated(record) {
    return (this.seen.get(record.id) ?? 0) > record.version;
  }

  // True, and remembered, when `record` is at least as new as what was seen of it.
  take(record) {
    if (this.outdated(record)) return false;
    this.seen.set(record.id, record.version);
    return true;
  }

  // A record a snapshot read: remembered, never going back.
  note(record) {
    this.seen.set(record.id, Math.max(this.seen.get(record.id) ?? 0, record.version));
  }
}

// --- the token: kept for this tab's session only -------------------------------------------------

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function claims(value = token()) {
  try {
    const part = value.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    return null;
  }
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(path, { method = "GET", body, idempotent = false } = {}) {
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // A retried POST (a double click, a flaky network) must not check a guest in twice.
  if (idempotent) headers["Idempotency-Key"] = crypto.randomUUID();
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// Every item of a paged list (next_cursor), in order.
export async function every(path, params = {}) {
  const items = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ ...params, limit: "200", ...(cursor ? { cursor } : {}) });
    const page = await api(`${path}?${query}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

// --- the page's frame: title, language toggle, token panel, feed state ----------------------------

// A page's table names its columns (data-columns: their label keys); its head and body are made here, for every page.
function buildTables() {
  for (const table of document.querySelectorAll("table[data-columns]")) {
    const head = table.createTHead().insertRow();
    for (const key of table.dataset.columns.split(/\s+/)) head.append(element("th", { scope: "col", "data-label": key }));
    table.createTBody();
  }
}

export function startConsole({ roles, onToken }) {
  const header = document.getElementById("console-header");
  const status = element("p", { id: "token-status", role: "status" });
  const input = element("input", { id: "token-input", type: "password", autocomplete: "off", spellcheck: "false" });
  const role = element("select", { id: "dev-role" }, ...roles.map((name) => element("option", { value: name }, name)));
  const panel = element(
    "form",
    { id: "token-form", class: "token" },
    element("label", { for: "token-input", "data-label": "token_label" }),
    input,
    element("button", { type: "submit", id: "token-use", "data-label": "token_use" }),
    element("label", { for: "dev-role", "data-label": "token_dev_role" }),
    role,
    element("button", { type: "button", id: "token-dev", "data-label": "token_dev" }),
    element("button", { type: "button", id: "token-forget", "data-label": "token_forget" }),
  );
  const feedState = element("span", { id: "feed-state", class: "feed-state", role: "status", "aria-live": "polite" });
  const toggle = element("button", { type: "button", id: "lang-toggle", "data-label": "lang_toggle" });
  header.append(element("div", { class: "bar" }, element("h1", { "data-label": "title" }), feedState, toggle), panel, status);

  const showStatus = (message = null) => {
    const held = claims();
    if (message) status.textContent = message;
    else if (!held) status.textContent = t("token_none");
    else
      status.textContent = t("token_signed_in", {
        role: (held.roles || []).join(", "),
        stations: (held.stations || []).join(", "),
        until: new Date(held.exp * 1000).toLocaleString(lang() === "zh" ? "zh-CN" : "en-GB"),
      });
  };
  const use = (value) => {
    if (value && !claims(value)) return showStatus(t("token_invalid"));
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
    input.value = "";
    showStatus();
    onToken(token());
  };
  panel.addEventListener("submit", (event) => {
    event.preventDefault();
    use(input.value.trim());
  });
  document.getElementById("token-dev").addEventListener("click", async () => {
    try {
      const station = new URLSearchParams(location.search).get("station") || "PEK";
      use((await api("dev-token", { method: "POST", body: { role: role.value, station } })).token);
    } catch (error) {
      showStatus(error.status === 404 ? t("dev_unavailable") : `${t("error")}: ${error.message}`);
    }
  });
  document.getElementById("token-forget").addEventListener("click", () => use(null));
  toggle.addEventListener("click", () => {
    sessionStorage.setItem(LANG_KEY, lang() === "zh" ? "en" : "zh");
    applyLabels();
    showStatus();
    window.dispatchEvent(new Event("airside:lang"));
  });
  buildTables();
  setFeedState("idle");
  applyLabels();
  showStatus();
  return {
    expired() {
      sessionStorage.removeItem(TOKEN_KEY);
      showStatus(t("token_expired"));
      input.focus();
    },
  };
}

// The feed's state, shown beside the title and as <body data-feed>: what a screen reader hears and a test waits for.
export function setFeedState(state) {
  document.body.dataset.feed = state;
  const shown = document.getElementById("feed-state");
  if (shown) {
    shown.dataset.label = `feed_${state}`;
    shown.textContent = t(`feed_${state}`);
  }
}

// --- the live feed ---------------------------------------------------------------------------------

// A feed per docs/feeds.md: after each connection's `ready` the snapshot is loaded once (later `ready`s of
// the same EventSource are resumes: the frames after Last-Event-ID follow); frames that come while it
// loads wait and are applied after it; `reset` loads it again; `expired` ends the feed.
export class Feed {
  constructor(path, { handlers, snapshot, onExpired }) {
    this.path = path;
    this.handlers = handlers;
    this.snapshot = snapshot;
    this.onExpired = onExpired;
    this.source = null;
    this.loaded = false;
    this.waiting = null;
    this.failures = 0;
    this.timer = null;
  }

  start(accessToken) {
    this.stop();
    this.accessToken = accessToken;
    this.loaded = false;
    setFeedState("connecting");
    const source = new EventSource(`${this.path}?access_token=${encodeURIComponent(accessToken)}`);
    this.source = source;
    source.addEventListener("ready", (event) => {
      this.failures = 0;
      document.body.dataset.position = event.lastEventId;
      setFeedState("live");
      if (!this.loaded) this.load();
    });
    source.addEventListener("reset", (event) => {
      document.body.dataset.position = event.lastEventId;
      this.loaded = false;
      this.load();
    });
    source.addEventListener("expired", () => {
      this.stop();
      setFeedState("expired");
      this.onExpired();
    });
    for (const [type, handler] of Object.entries(this.handlers)) {
      source.addEventListener(type, (event) => {
        document.body.dataset.position = event.lastEventId;
        const frame = JSON.parse(event.data);
        if (this.waiting) this.waiting.push([handler, frame]);
        else if (this.loaded) handler(frame);
      });
    }
    source.addEventListener("error", () => {
      if (source !== this.source) return;
      if (source.readyState === EventSource.CONNECTING) return setFeedState("reconnecting");
      setFeedState("closed");
      // Without a feed the page still shows where things stand (not live): the next connection loads it again.
      if (!this.loaded && !this.waiting) this.load();
      const wait = RECONNECT_MS[Math.min(this.failures++, RECONNECT_MS.length - 1)];
      this.timer = setTimeout(() => this.start(this.accessToken), wait);
    });
  }

  async load() {
    this.waiting = [];
    try {
      await this.snapshot();
      this.loaded = true;
      // How many snapshots this page loaded: a resume adds none (the frames after Last-Event-ID follow).
      document.body.dataset.snapshots = String(Number(document.body.dataset.snapshots || 0) + 1);
    } catch (error) {
      console.warn("snapshot not loaded", error); // the page says why; the next reset or new connection loads again
    } finally {
      const waiting = this.waiting;
      this.waiting = null;
      if (this.loaded) for (const [handler, frame] of waiting) handler(frame);
    }
  }

  stop() {
    clearTimeout(this.timer);
    if (this.source) this.source.close();
    this.source = null;
    setFeedState("idle");
  }
}

/** A line for the person at the desk in the page's status line (#message), read out by screen readers. */
export function say(text, isError = false) {
  const message = document.getElementById("message");
  message.textContent = text;
  message.className = isError ? "error" : "";
}

/** The page's feed, started with the session's token; a snapshot that fails to load is said, then retried by the feed. */
export function openFeed(path, { handlers, snapshot, onExpired }) {
  const feed = new Feed(path, {
    handlers,
    snapshot: () =>
      snapshot().catch((error) => {
        say(`${t("error")}: ${error.message}`, true);
        throw error;
      }),
    onExpired,
  });
  feed.start(token());
  return feed;
}
