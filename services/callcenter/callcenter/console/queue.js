// The agent queue (docs/console.md): the unassigned tickets an agent may claim, with SLA countdowns that
// turn amber at the warning (80% of the target used) and red at the breach.
import { addLabels, api, applyLabels, element, every, openFeed, say, startConsole, t, token, Versions } from "./console.js";

addLabels({
  en: {
    title: "Agent queue",
    claim: "Claim next ticket",
    queue: "Waiting tickets",
    col_number: "Ticket",
    col_priority: "Priority",
    col_subject: "Subject",
    col_station: "Station",
    col_target: "SLA target",
    col_due: "Time left",
    first_response: "First response",
    resolution: "Resolution",
    warning: "Warning",
    breached: "Breached",
    no_tickets: "No tickets waiting.",
    claimed: "You took {number}: {subject}",
    nothing: "Nothing to claim.",
  },
  zh: {
    title: "坐席队列",
    claim: "领取下一张工单",
    queue: "待处理工单",
    col_number: "工单",
    col_priority: "优先级",
    col_subject: "主题",
    col_station: "站点",
    col_target: "SLA 目标",
    col_due: "剩余时间",
    first_response: "首次响应",
    resolution: "解决",
    warning: "预警",
    breached: "已超时",
    no_tickets: "暂无待处理工单。",
    claimed: "已领取 {number}：{subject}",
    nothing: "没有可领取的工单。",
  },
});

const QUEUED = new Set(["new", "open"]);
const WARNING_AT = 0.8; // the share of a target's time after which callcenter sends its SLA warning
const tickets = new Map(); // ticket id -> ticket as GET /v1/tickets/{id} shows it, plus `warned`
const versions = new Versions();
let feed = null;

const target = (ticket) => (ticket.first_responded_at ? "resolution" : "first_response");
const due = (ticket) => ticket[`${target(ticket)}_due`];

function slaState(ticket, now) {
  const name = target(ticket);
  const dueAt = due(ticket) ? Date.parse(due(ticket)) : null;
  if (ticket.sla_breached?.[name] || (dueAt !== null && dueAt <= now)) return "breached";
  const started = Date.parse(ticket.created_at);
  if (ticket.warned?.[name] || (dueAt !== null && (now - started) / (dueAt - started) >= WARNING_AT)) return "warning";
  return null;
}

function countdown(dueAt, now) {
  if (!dueAt) return "–";
  const seconds = Math.round((Date.parse(dueAt) - now) / 1000);
  const left = Math.abs(seconds);
  const hours = Math.floor(left / 3600);
  const minutes = String(Math.floor((left % 3600) / 60)).padStart(2, "0");
  const rest = String(left % 60).padStart(2, "0");
  return `${seconds < 0 ? "−" : ""}${hours ? `${hours}:` : ""}${minutes}:${rest}`;
}

function render() {
  const body = document.querySelector("#queue tbody");
  const now = Date.now();
  const order = (ticket) => (due(ticket) ? Date.parse(due(ticket)) : Infinity);
  const sorted = [...tickets.values()].sort((a, b) => order(a) - order(b) || a.priority.localeCompare(b.priority));
  body.replaceChildren(
    ...sorted.map((ticket) => {
      const state = slaState(ticket, now);
      return element(
        "tr",
        { class: state, dataset: { ticket: ticket.id, sla: state || "ok" } },
        element("td", {}, ticket.number),
        element("td", {}, ticket.priority),
        element("td", {}, ticket.subject || "–"),
        element("td", {}, ticket.station),
        element("td", {}, t(target(ticket))),
        element("td", { class: "countdown" }, countdown(due(ticket), now), state ? ` (${t(state)})` : ""),
      );
    }),
  );
  if (!sorted.length) body.append(element("tr", {}, element("td", { colspan: 6, class: "empty" }, t("no_tickets"))));
}

function keep(ticket) {
  if (!versions.take(ticket)) return;
  if (QUEUED.has(ticket.status) && !ticket.assignee) tickets.set(ticket.id, { warned: tickets.get(ticket.id)?.warned || {}, ...ticket });
  else tickets.delete(ticket.id);
}

async function snapshot() {
  const found = (await Promise.all([...QUEUED].map((status) => every("../v1/tickets", { status })))).flat();
  tickets.clear();
  for (const ticket of found) if (!ticket.assignee) tickets.set(ticket.id, { warned: {}, ...ticket });
  for (const ticket of found) versions.note(ticket);
  render();
}

const fetchTicket = (id) => api(`../v1/tickets/${encodeURIComponent(id)}`);

// A change: out of the queue when the feed says it leaves (claimed, assigned, moved on), else the ticket re-read.
async function changed(frame) {
  const snapshot = frame.data.ticket;
  if (frame.feed?.leaves || snapshot.assignee || !QUEUED.has(snapshot.status)) {
    if (versions.take(snapshot)) tickets.delete(snapshot.id);
  } else if (!versions.outdated(snapshot)) {
    // A ticket on the page takes the frame's fields and the due times the feed read; a new one is read whole.
    const held = tickets.get(snapshot.id);
    keep(held && frame.feed?.sla ? { ...held, ...snapshot, ...frame.feed.sla } : await fetchTicket(snapshot.id));
  }
  render();
}

// An SLA frame: the target's due time, and its warning or breach, on the row at once.
function sla(flag) {
  return (frame) => {
    const held = tickets.get(frame.data.ticket.id);
    if (!held) return;
    const name = frame.data.target;
    Object.assign(held, frame.feed?.sla, { [`${name}_due`]: frame.data.due_at });
    if (flag === "warned") held.warned = { ...held.warned, [name]: true };
    else held.sla_breached = { ...held.sla_breached, [name]: true };
    render();
  };
}

const handlers = {
  "airside.callcenter.ticket.created": changed,
  "airside.callcenter.ticket.assigned": changed,
  "airside.callcenter.ticket.status_changed": changed,
  "airside.callcenter.ticket.escalated": changed,
  "airside.callcenter.ticket.sla_warning": sla("warned"),
  "airside.callcenter.ticket.sla_breached": sla("breached"),
};

function connect() {
  feed?.stop();
  if (!token()) return;
  feed = openFeed("../v1/queue/stream", { handlers, snapshot, onExpired: () => frame.expired() });
}

async function claim() {
  try {
    const ticket = await api("../v1/queue/claim", { method: "POST", idempotent: true });
    if (!ticket) return say(t("nothing"));
    keep(ticket);
    render();
    say(t("claimed", { number: ticket.number, subject: ticket.subject }));
  } catch (error) {
    say(`${t("error")}: ${error.message}`, true);
  }
}

const frame = startConsole({ roles: ["agent", "team_lead", "supervisor", "admin"], onToken: connect });
document.getElementById("claim").addEventListener("click", claim);
window.addEventListener("airside:lang", render);
setInterval(render, 1000); // the countdowns
applyLabels();
render();
connect();
