// The lounge reception board (docs/console.md): guests in, capacity, boarding calls, check-in by boarding pass.
import { addLabels, api, applyLabels, element, every, formatTime, openFeed, say, startConsole, t, token, Versions } from "./console.js";

addLabels({
  en: {
    title: "Lounge reception board",
    lounge: "Lounge",
    guests_in: "Guests in",
    capacity: "Capacity",
    available: "Places free",
    checkin: "Check in",
    boarding_pass: "Boarding pass (scan or paste)",
    boarding_pass_hint: "M1LI/WEI …",
    guests: "Accompanying guests",
    read_pass: "Read",
    check_in: "Check in",
    board: "Guests in the lounge",
    col_guest: "Guest",
    col_party: "Party",
    col_flight: "Flight",
    col_gate: "Gate",
    col_departs: "Departs",
    col_call: "Boarding call",
    boarding_now: "Boarding now",
    no_guests: "No guests checked in.",
    checked_in: "Checked in: {name}, {flight}",
    scanned: "{name} · {flight} {route} · {date} · seat {seat}",
  },
  zh: {
    title: "贵宾室前台看板",
    lounge: "贵宾室",
    guests_in: "在室人数",
    capacity: "容量",
    available: "空余座位",
    checkin: "登记入室",
    boarding_pass: "登机牌（扫描或粘贴）",
    boarding_pass_hint: "M1LI/WEI …",
    guests: "随行人数",
    read_pass: "读取",
    check_in: "登记入室",
    board: "在室旅客",
    col_guest: "旅客",
    col_party: "人数",
    col_flight: "航班",
    col_gate: "登机口",
    col_departs: "起飞",
    col_call: "登机提醒",
    boarding_now: "请登机",
    no_guests: "暂无旅客入室。",
    checked_in: "已登记：{name}，{flight}",
    scanned: "{name} · {flight} {route} · {date} · 座位 {seat}",
  },
});

const rows = new Map(); // visit id -> board row
const versions = new Versions();
const params = new URLSearchParams(location.search);
const loungeSelect = document.getElementById("lounge");
let feed = null;

function rowOf(visit) {
  return {
    visit_id: visit.id,
    name: visit.passenger_name,
    guests: visit.guests,
    flight: visit.flight,
    boarding_call_at: visit.boarding_call_at,
    boarding_call_sent: false,
  };
}

function render() {
  const body = document.querySelector("#board tbody");
  const now = Date.now();
  const sorted = [...rows.values()].sort(
    (a, b) => (a.boarding_call_at ? Date.parse(a.boarding_call_at) : Infinity) - (b.boarding_call_at ? Date.parse(b.boarding_call_at) : Infinity),
  );
  body.replaceChildren(
    ...sorted.map((row) => {
      const calling = row.boarding_call_sent || (row.boarding_call_at && Date.parse(row.boarding_call_at) <= now);
      const flight = row.flight || {};
      return element(
        "tr",
        { class: calling ? "boarding" : null, dataset: { visit: row.visit_id } },
        element("td", {}, row.name || "–"),
        element("td", {}, 1 + (row.guests || 0)),
        element("td", {}, flight.flight_no || "–"),
        element("td", {}, flight.gate || "–"),
        element("td", {}, formatTime(flight.etd || flight.std)),
        element("td", {}, calling ? `${t("boarding_now")} (${formatTime(row.boarding_call_at)})` : formatTime(row.boarding_call_at)),
      );
    }),
  );
  if (!sorted.length) body.append(element("tr", {}, element("td", { colspan: 6, class: "empty" }, t("no_guests"))));
}

function showOccupancy(occupancy) {
  document.getElementById("occupied").textContent = occupancy.occupied;
  document.getElementById("capacity").textContent = occupancy.capacity;
  document.getElementById("available").textContent = occupancy.available;
}

const lounge = () => loungeSelect.value;
const refreshOccupancy = async () => showOccupancy(await api(`../v1/lounges/${encodeURIComponent(lounge())}/occupancy`));

async function snapshot() {
  const [board] = await Promise.all([every(`../v1/lounges/${encodeURIComponent(lounge())}/board`), refreshOccupancy()]);
  rows.clear();
  for (const row of board) rows.set(row.visit_id, row);
  render();
}

// A change frame: the visit as published, and (when the feed adds them) the board row and occupancy.
async function applyVisit(frame, change) {
  const visit = frame.data.visit;
  if (visit.lounge_id !== lounge() || !versions.take(visit)) return;
  change(visit, frame.feed || {});
  render();
  if (frame.feed?.occupancy) showOccupancy(frame.feed.occupancy);
  else await refreshOccupancy();
}

async function visitRow(visit, extra) {
  return extra.row || rowOf(await api(`../v1/visits/${encodeURIComponent(visit.id)}`));
}

const handlers = {
  "airside.lounge.visit.checked_in": async (frame) => {
    const row = await visitRow(frame.data.visit, frame.feed || {});
    applyVisit(frame, (visit) => rows.set(visit.id, { ...rows.get(visit.id), ...row }));
  },
  "airside.lounge.visit.checked_out": (frame) => applyVisit(frame, (visit) => rows.delete(visit.id)),
  "airside.lounge.visit.boarding_call_due": (frame) =>
    applyVisit(frame, (visit) => {
      const row = rows.get(visit.id);
      if (row) rows.set(visit.id, { ...row, boarding_call_at: visit.boarding_call_at, boarding_call_sent: true });
    }),
  "airside.lounge.visit.flight_changed": async (frame) => {
    const row = rows.has(frame.data.visit.id) ? await visitRow(frame.data.visit, frame.feed || {}) : null;
    applyVisit(frame, (visit) => row && rows.set(visit.id, { ...rows.get(visit.id), ...row, boarding_call_sent: false }));
  },
};

function connect() {
  feed?.stop();
  if (!token() || !lounge()) return;
  feed = openFeed(`../v1/lounges/${encodeURIComponent(lounge())}/board/stream`, { handlers, snapshot, onExpired: () => frame.expired() });
}

async function loadLounges() {
  if (!token()) return;
  try {
    const lounges = await every("../v1/lounges");
    const wanted = params.get("lounge") || sessionStorage.getItem("airside.console.lounge");
    loungeSelect.replaceChildren(...lounges.map((held) => element("option", { value: held.id, selected: held.id === wanted }, held.name || held.id)));
    connect();
  } catch (error) {
    say(`${t("error")}: ${error.message}`, true);
  }
}

function scanned() {
  return { boarding_pass: document.getElementById("boarding-pass").value.trim() };
}

async function readPass() {
  const preview = document.getElementById("preview");
  try {
    const pass = await api("../v1/boarding-passes/decode", { method: "POST", body: scanned() });
    const leg = pass.legs[0];
    preview.textContent = t("scanned", {
      name: pass.passenger_name,
      flight: leg.flight_no,
      route: `${leg.from}→${leg.to}`,
      date: leg.flight_date,
      seat: leg.seat || "–",
    });
  } catch (error) {
    preview.textContent = `${t("error")}: ${error.message}`;
  }
}

async function checkIn(event) {
  event.preventDefault();
  try {
    const body = { ...scanned(), guests: Number(document.getElementById("guests").value || 0) };
    const visit = await api(`../v1/lounges/${encodeURIComponent(lounge())}/visits`, { method: "POST", body, idempotent: true });
    if (versions.take(visit)) rows.set(visit.id, rowOf(visit));
    render();
    say(t("checked_in", { name: visit.passenger_name || "–", flight: visit.flight.flight_no }));
    document.getElementById("boarding-pass").value = "";
    document.getElementById("preview").textContent = "";
    await refreshOccupancy();
  } catch (error) {
    say(`${t("error")}: ${error.message}`, true);
  }
}

const frame = startConsole({ roles: ["lounge_staff", "station_manager", "admin"], onToken: loadLounges });
loungeSelect.addEventListener("change", () => {
  sessionStorage.setItem("airside.console.lounge", lounge());
  connect();
});
document.getElementById("read-pass").addEventListener("click", readPass);
document.getElementById("checkin").addEventListener("submit", checkIn);
// A scanner types the barcode and Enter: Enter checks in, Shift+Enter is a new line.
document.getElementById("boarding-pass").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) checkIn(event);
});
window.addEventListener("airside:lang", render);
setInterval(render, 30000); // a boarding call time passing turns its row without a frame
applyLabels();
render();
loadLounges();
