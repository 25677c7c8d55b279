// The concierge dispatch board (docs/console.md): a station's orders of one local day and where each stands.
import { addLabels, api, applyLabels, claims, element, every, formatTime, openFeed, say, startConsole, t, token, Versions } from "./console.js";

const STATUSES = ["requested", "confirmed", "assigned", "in_service", "in_lounge", "completed", "no_show", "cancelled"];
// Events that ask the lead to act: the row is marked until the order changes again.
const ATTENTION = new Set([
  "airside.booking.order.reassignment_needed",
  "airside.booking.order.flight_disrupted",
  "airside.booking.order.confirmation_overdue",
]);
const ORDER_EVENTS = [
  "created", "confirmed", "assigned", "started", "in_lounge", "completed", "no_show", "cancelled",
  "changed", "rescheduled", "reassignment_needed", "flight_disrupted", "confirmation_overdue",
].map((name) => `airside.booking.order.${name}`);

addLabels({
  en: {
    title: "Concierge dispatch board",
    station: "Station",
    day: "Day (station time, as the times below)",
    show: "Show",
    orders: "Orders of the day",
    col_meet: "Meet",
    col_ref: "Order",
    col_flight: "Flight",
    col_direction: "Direction",
    col_passengers: "Passengers",
    col_point: "Meeting point",
    col_concierge: "Concierge",
    col_status: "Status",
    departure: "Departure",
    arrival: "Arrival",
    transfer: "Transfer",
    unassigned: "Unassigned",
    attention: "Needs attention",
    no_orders: "No orders on this day.",
    requested: "Requested", confirmed: "Confirmed", assigned: "Assigned", in_service: "In service",
    in_lounge: "In lounge", completed: "Completed", no_show: "No show", cancelled: "Cancelled",
  },
  zh: {
    title: "礼宾调度看板",
    station: "站点",
    day: "日期（站点时间，下列时间同）",
    show: "显示",
    orders: "当日订单",
    col_meet: "接见时间",
    col_ref: "订单",
    col_flight: "航班",
    col_direction: "类型",
    col_passengers: "旅客",
    col_point: "集合点",
    col_concierge: "礼宾员",
    col_status: "状态",
    departure: "出港",
    arrival: "进港",
    transfer: "中转",
    unassigned: "未指派",
    attention: "需要处理",
    no_orders: "当日没有订单。",
    requested: "已预约", confirmed: "已确认", assigned: "已指派", in_service: "服务中",
    in_lounge: "在贵宾室", completed: "已完成", no_show: "未到", cancelled: "已取消",
  },
});

const orders = new Map(); // order id -> order, with `attention` when an event asked for it
const versions = new Versions();
const stationInput = document.getElementById("station");
const dayInput = document.getElementById("day");
const zones = new Map(); // station code -> IANA time zone, from GET /v1/stations
let feed = null;

// The station-local day of an instant, as booking's `date` filter reads meet_at.
function localDay(instant) {
  const zone = zones.get(stationInput.value) || undefined;
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(instant));
}

function render() {
  const body = document.querySelector("#orders tbody");
  const sorted = [...orders.values()].sort((a, b) => Date.parse(a.meet_at) - Date.parse(b.meet_at));
  body.replaceChildren(
    ...sorted.map((order) =>
      element(
        "tr",
        { class: order.attention ? "warning" : null, dataset: { order: order.id, status: order.status } },
        element("td", {}, formatTime(order.meet_at, zones.get(stationInput.value))),
        element("td", {}, order.ref),
        element("td", {}, order.flight?.flight_no || "–"),
        element("td", {}, t(order.direction)),
        element("td", {}, (order.passengers || []).length),
        element("td", {}, order.meeting_point || "–"),
        element("td", {}, order.concierge?.name || t("unassigned")),
        element("td", { class: "status" }, t(order.status), order.attention ? ` (${t("attention")})` : ""),
      ),
    ),
  );
  if (!sorted.length) body.append(element("tr", {}, element("td", { colspan: 8, class: "empty" }, t("no_orders"))));
  const counts = document.getElementById("counts");
  counts.replaceChildren(
    ...STATUSES.map((status) => [status, sorted.filter((order) => order.status === status).length])
      .filter(([, count]) => count)
      .map(([status, count]) => element("div", { class: "figure" }, t(status), element("strong", {}, count))),
  );
}

async function snapshot() {
  for (const station of await every("../v1/stations")) zones.set(station.code, station.timezone);
  const found = await every("../v1/orders", { station: stationInput.value, date: dayInput.value });
  orders.clear();
  for (const order of found) {
    orders.set(order.id, order);
    versions.note(order);
  }
  render();
}

function changed(type) {
  return (frame) => {
    const order = frame.data.order;
    if (!versions.take(order)) return;
    const shown = orders.has(order.id);
    if (frame.feed?.leaves || order.station !== stationInput.value || localDay(order.meet_at) !== dayInput.value) {
      if (shown) orders.delete(order.id);
    } else {
      orders.set(order.id, { ...orders.get(order.id), ...order, attention: ATTENTION.has(type) });
    }
    render();
  };
}

function connect() {
  feed?.stop();
  if (!token() || !stationInput.value || !dayInput.value) return;
  const handlers = Object.fromEntries(ORDER_EVENTS.map((type) => [type, changed(type)]));
  feed = openFeed(`../v1/stations/${encodeURIComponent(stationInput.value)}/orders/stream`, { handlers, snapshot, onExpired: () => frame.expired() });
}

function defaults() {
  const params = new URLSearchParams(location.search);
  const stations = (claims()?.stations || []).filter((code) => code !== "*");
  if (!stationInput.value) stationInput.value = params.get("station") || stations[0] || "PEK";
  if (!dayInput.value) dayInput.value = params.get("date") || localDay(Date.now());
}

const frame = startConsole({
  roles: ["concierge_lead", "station_manager", "concierge", "admin"],
  onToken: () => {
    defaults();
    connect();
  },
});
document.getElementById("choose").addEventListener("submit", (event) => {
  event.preventDefault();
  stationInput.value = stationInput.value.toUpperCase();
  connect();
});
window.addEventListener("airside:lang", render);
applyLabels();
defaults();
render();
connect();
