// The on-call console: a hash router over five pages, kept current by the live
// stream. Every text a user sees goes through t(); every value from the API is
// put in the page as text (textContent), never as HTML.
import { ApiError, can, followStream, forgetToken, get, me, post, query, signIn, token } from "./api.js";
import { lang, setLang, t } from "./i18n.js";

const SEVERITY_RANK = { critical: 3, warning: 2, info: 1 };
const OPEN_ALERT_STATES = ["pending", "firing", "acknowledged"];
const WORK_ORDER_STATES = ["open", "assigned", "responded", "resolved", "closed"];
// Which work-order step may follow which (alerts/workorders.py TRANSITIONS; the API enforces it).
const WORK_ORDER_NEXT = {
  open: ["assign", "respond", "resolve"],
  assigned: ["assign", "respond", "resolve"],
  responded: ["assign", "resolve"],
  resolved: ["close", "respond"],
  closed: [],
};

const main = document.getElementById("main");
const state = { alerts: new Map(), workOrders: new Map(), stopStream: null, streamStatus: "reconnecting" };
const alertCards = new Map();
const openHistories = new Set(); // alert ids whose audit trail is open
const workOrderCards = new Map();

// ---------------------------------------------------------------- helpers

/** An element: h("button", { class: "ack", onclick: f }, "text", child, ...). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const svg = (tag, attrs = {}) => {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  return el;
};

function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(lang() === "zh" ? "zh-CN" : "en-GB", { dateStyle: "short", timeStyle: "short" });
}

function placeText(place) {
  if (!place) return "";
  return [place.building_name ?? place.building, place.floor_name ?? place.floor, place.room_name ?? place.room,
    place.asset_name ?? place.asset].filter(Boolean).join(" · ");
}

function badge(kind, value) {
  return h("span", { class: `badge ${kind}-${value}` }, t(`${kind}_${value}`));
}

function failure(error) {
  if (error instanceof ApiError && error.status === 401) {
    signOut();
    return h("p", { class: "error" }, t("token_refused"));
  }
  return h("p", { class: "error", role: "alert" }, `${t("error")}: ${error.message}`);
}

function show(...nodes) {
  main.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
}

/**
 * The card of a record, rebuilt only when the record changed: a live update of
 * one alert must not wipe the note someone is typing on another.
 */
function keyedCard(cache, record, build) {
  const version = JSON.stringify(record);
  const known = cache.get(record.id);
  if (known && known.version === version) return known.node;
  const node = build(record);
  cache.set(record.id, { version, node });
  return node;
}

/** Open `form` under an action button, unless one is open there already. */
function openForm(actions, form) {
  if (!actions.querySelector("form")) actions.append(form);
}

/** A note box with Confirm and Cancel, shown in place of an action's button. */
function noteForm(label, onConfirm, { field = "note", required = false } = {}) {
  const input = h("input", { type: "text", name: field, maxlength: 2000, required,
    placeholder: field === "note" ? t("note_placeholder") : "", "aria-label": label });
  const form = h("form", { class: "note-form" }, input,
    h("button", { type: "submit", class: "primary" }, t("confirm")),
    h("button", { type: "button", class: "cancel", onclick: () => form.remove() }, t("cancel")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      await onConfirm(input.value.trim() || null);
      form.remove();
    } catch (error) {
      form.append(failure(error));
      form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  });
  setTimeout(() => input.focus());
  return form;
}

// ---------------------------------------------------------------- alert inbox

const alertFilter = { state: "open", severity: "", building: "" };

function alertMatches(alert) {
  const states = alertFilter.state === "open" ? OPEN_ALERT_STATES : alertFilter.state ? [alertFilter.state] : null;
  return (!states || states.includes(alert.state)) && (!alertFilter.severity || alert.severity === alertFilter.severity)
    && (!alertFilter.building || alert.place?.building === alertFilter.building);
}

function alertCard(alert) {
  const actions = h("div", { class: "actions" });
  const open = OPEN_ALERT_STATES.includes(alert.state);
  if (can("oncall")) {
    if (alert.state === "pending" || alert.state === "firing") {
      actions.append(h("button", { class: "ack primary", onclick: () => openForm(actions, noteForm(t("acknowledge"),
        async (note) => remember(await post(`/alerts/${alert.id}/acknowledge`, { note })))) }, t("acknowledge")));
    }
    if (open) {
      actions.append(h("button", { class: "resolve", onclick: () => openForm(actions, noteForm(t("resolve"),
        async (note) => remember(await post(`/alerts/${alert.id}/resolve`, { note })))) }, t("resolve")));
    }
    actions.append(h("button", { class: "comment", onclick: () => openForm(actions, noteForm(t("comment"),
      async (note) => { await post(`/alerts/${alert.id}/comments`, { note }); refreshHistory(trail, alert.id); },
      { required: true })) }, t("comment")));
  }
  // The audit trail, on demand: who did what and when, with their notes. It
  // stays open when a live update rebuilds the card.
  const shown = openHistories.has(alert.id);
  const trail = h("ol", { class: "history", hidden: !shown });
  actions.append(h("button", { class: "history-toggle", onclick: (event) => {
    trail.hidden = !trail.hidden;
    if (trail.hidden) openHistories.delete(alert.id);
    else openHistories.add(alert.id);
    event.target.textContent = trail.hidden ? t("history") : t("hide_history");
    if (!trail.hidden) refreshHistory(trail, alert.id);
  } }, shown ? t("hide_history") : t("history")));
  if (shown) refreshHistory(trail, alert.id);
  return h("article", { class: `card alert severity-${alert.severity} state-${alert.state}`, dataset: { alertId: alert.id } },
    h("header", {}, badge("severity", alert.severity), badge("state", alert.state),
      alert.suppressed_by ? h("span", { class: "badge muted" }, `${t("suppressed")}: ${alert.suppressed_by}`) : null,
      h("span", { class: "when" }, `${t("since")} ${when(alert.since ?? alert.opened_at)}`)),
    h("p", { class: "summary" }, alert.summary),
    h("p", { class: "place" }, placeText(alert.place),
      alert.sensor ? [" · ", h("a", { href: `#/sensors/${encodeURIComponent(alert.sensor)}` }, alert.sensor)] : null),
    h("dl", {},
      alert.value !== null ? [h("dt", {}, t("value")), h("dd", {}, String(alert.value))] : null,
      alert.limit ? [h("dt", {}, t("limit")), h("dd", {}, alert.limit)] : null,
      alert.acknowledged_by ? [h("dt", {}, t("acknowledged_by")), h("dd", { class: "acked-by" },
        `${alert.acknowledged_by}, ${when(alert.acknowledged_at)}`)] : null,
      alert.resolved_by ? [h("dt", {}, t("resolved_by")), h("dd", {}, `${alert.resolved_by}, ${when(alert.resolved_at)}`)] : null),
    actions, trail);
}

async function refreshHistory(trail, alertId) {
  try {
    const { events } = await get(`/alerts/${alertId}`);
    trail.replaceChildren(...events.map((e) => h("li", {}, h("span", { class: "when" }, when(e.at)), " ",
      h("strong", {}, e.actor), ` ${e.action}`, e.to_state ? ` → ${t(`state_${e.to_state}`)}` : "",
      e.note ? h("q", {}, e.note) : null)));
  } catch (error) {
    trail.replaceChildren(failure(error));
  }
}

function remember(alert) {
  state.alerts.set(alert.id, alert);
  if (route().page === "alerts") renderAlertList();
  return alert;
}

function renderAlertList() {
  const list = document.getElementById("alert-list");
  if (!list) return;
  const shown = [...state.alerts.values()].filter(alertMatches)
    .sort((a, b) => (SEVERITY_RANK[b.severity] ?? 0) - (SEVERITY_RANK[a.severity] ?? 0) || b.id - a.id);
  list.replaceChildren(...(shown.length ? shown.map((a) => keyedCard(alertCards, a, alertCard))
    : [h("p", { class: "empty" }, t("nothing"))]));
}

function select(name, value, options, onchange) {
  return h("label", {}, t(name), h("select", { name, onchange: (e) => onchange(e.target.value) },
    options.map(([v, label]) => h("option", { value: v, selected: v === value }, label))));
}

async function alertsPage() {
  const buildings = await get("/buildings");
  const reload = async () => {
    const states = alertFilter.state === "open" ? OPEN_ALERT_STATES : alertFilter.state || null;
    const alerts = await get(`/alerts${query({ state: states, limit: 500 })}`);
    state.alerts = new Map(alerts.map((a) => [a.id, a]));
    renderAlertList();
  };
  const set = (key) => (value) => { alertFilter[key] = value; reload().catch((e) => show(failure(e))); };
  show(h("h1", {}, t("nav_alerts")),
    h("form", { class: "filters", "aria-label": t("filter"), onsubmit: (e) => e.preventDefault() },
      select("state", alertFilter.state, [["open", t("open_alerts")], ...[...OPEN_ALERT_STATES, "resolved"]
        .map((s) => [s, t(`state_${s}`)]), ["", t("all")]], set("state")),
      select("severity", alertFilter.severity, [["", t("all")], ...Object.keys(SEVERITY_RANK).map((s) => [s, t(`severity_${s}`)])],
        set("severity")),
      select("building", alertFilter.building, [["", t("all")], ...buildings.map((b) => [b.id, b.name])], set("building"))),
    can("oncall") ? null : h("p", { class: "hint" }, t("viewer_note")),
    h("section", { id: "alert-list", class: "cards", "aria-live": "polite" }));
  await reload();
}

// ---------------------------------------------------------------- status board

function worst(alerts) {
  return alerts.reduce((top, a) => ((SEVERITY_RANK[a.severity] ?? 0) > (SEVERITY_RANK[top] ?? 0) ? a.severity : top), "ok");
}

async function statusPage() {
  const [buildings, rooms, assets, alerts] = await Promise.all([get("/buildings"), get("/rooms"), get("/assets"),
    get(`/alerts${query({ state: OPEN_ALERT_STATES, limit: 1000 })}`)]);
  const byAsset = (id) => alerts.filter((a) => a.asset === id);
  const byRoom = (id) => alerts.filter((a) => a.place?.room === id);
  const sections = buildings.map((building) => {
    const floors = [...new Map(rooms.filter((r) => r.building === building.id).map((r) => [r.floor, r.floor_name])).entries()];
    return h("section", { class: `building level-${worst(alerts.filter((a) => a.place?.building === building.id))}` },
      h("h2", {}, building.name),
      floors.map(([floorId, floorName]) => h("div", { class: "floor" }, h("h3", {}, floorName),
        h("div", { class: "rooms" }, rooms.filter((r) => r.building === building.id && r.floor === floorId).map((room) =>
          h("div", { class: `room level-${worst(byRoom(room.id))}`, dataset: { room: room.id } },
            h("h4", {}, room.name, room.department ? h("small", {}, ` ${room.department}`) : null),
            h("ul", { class: "assets" }, assets.filter((a) => a.room === room.id).map((asset) => {
              const level = worst(byAsset(asset.id));
              return h("li", { class: `asset level-${level}`, dataset: { asset: asset.id } },
                h("a", { href: asset.sensors.length ? `#/sensors/${encodeURIComponent(asset.sensors[0])}` : "#/status" },
                  asset.name), h("span", { class: "level" }, t(`severity_${level}`)));
            }))))))));
  });
  show(h("h1", {}, t("nav_status")),
    h("p", { class: "legend" }, t("legend"), ": ", ["critical", "warning", "info", "ok"].map((s) => badge("severity", s))),
    sections);
}

// ---------------------------------------------------------------- work orders

function dueText(label, iso, done) {
  const late = !done && iso && new Date(iso) < new Date();
  return h("p", { class: late ? "due overdue" : "due" }, `${label}: ${when(iso)}`, late ? ` (${t("overdue")})` : "");
}

function workOrderCard(order) {
  const actions = h("div", { class: "actions" });
  if (can("technician")) {
    for (const step of WORK_ORDER_NEXT[order.state] ?? []) {
      const isAssign = step === "assign";
      actions.append(h("button", { class: `wo-${step}`, onclick: () => openForm(actions, noteForm(t(isAssign ? "assign_to" : step),
        async (value) => {
          const updated = await post(`/work-orders/${order.id}/${step}`, isAssign ? { to: value } : { note: value });
          state.workOrders.set(updated.id, updated);
          renderBoard();
        }, isAssign ? { field: "to", required: true } : {})) }, t(step)));
    }
  }
  return h("article", { class: `card work-order priority-${order.priority}`, dataset: { workOrderId: order.id } },
    h("header", {}, h("strong", {}, `WO-${order.id}`), badge("priority", order.priority)),
    h("p", { class: "summary" }, order.title),
    h("p", { class: "place" }, placeText(order.place) || order.asset || ""),
    order.assigned_to ? h("p", {}, `${t("assigned_to")}: ${order.assigned_to}`) : null,
    dueText(t("response_due"), order.response_due, order.responded_at || order.resolved_at),
    dueText(t("resolution_due"), order.resolution_due, order.resolved_at),
    actions);
}

function renderBoard() {
  const board = document.getElementById("board");
  if (!board) return;
  const orders = [...state.workOrders.values()].sort((a, b) => new Date(a.response_due) - new Date(b.response_due));
  board.replaceChildren(...WORK_ORDER_STATES.map((column) => {
    const cards = orders.filter((o) => o.state === column).slice(0, column === "closed" ? 20 : undefined);
    return h("section", { class: "column", dataset: { state: column } },
      h("h2", {}, t(`wo_${column}`), h("span", { class: "count" }, ` ${cards.length}`)),
      cards.length ? cards.map((o) => keyedCard(workOrderCards, o, workOrderCard)) : h("p", { class: "empty" }, t("nothing")));
  }));
}

async function workOrdersPage() {
  const orders = await get("/work-orders");
  state.workOrders = new Map(orders.map((o) => [o.id, o]));
  show(h("h1", {}, t("nav_work_orders")), h("div", { id: "board", class: "board" }));
  renderBoard();
}

// ---------------------------------------------------------------- sensors

async function sensorsPage() {
  const sensors = await get("/sensors");
  show(h("h1", {}, t("nav_sensors")),
    h("table", { class: "table" },
      h("thead", {}, h("tr", {}, [t("sensor"), t("asset"), t("kind"), t("status"), t("latest"), t("last_seen")]
        .map((c) => h("th", {}, c)))),
      h("tbody", {}, sensors.map((s) => h("tr", {},
        h("td", {}, h("a", { href: `#/sensors/${encodeURIComponent(s.id)}` }, s.id)),
        h("td", {}, s.asset_name), h("td", {}, s.kind),
        h("td", {}, h("span", { class: `badge status-${s.live.status}` }, t(`status_${s.live.status}`))),
        h("td", {}, latestText(s)), h("td", {}, when(s.live.last_seen)))))));
}

function latestText(sensor) {
  return sensor.metrics.filter((m) => sensor.live.metrics[m.name])
    .map((m) => `${m.name} ${formatNumber(sensor.live.metrics[m.name].value)} ${m.unit}`).join(", ");
}

function formatNumber(value) {
  return typeof value === "number" ? String(Math.round(value * 100) / 100) : String(value);
}

const RANGES = { hours_6: 6, hours_24: 24, days_7: 24 * 7, days_30: 24 * 30 };
const sensorView = { metric: null, range: "hours_24" };

/** A line chart of the history as inline SVG, with the metric's low and high limits as dashed lines. */
function chart(history, limits) {
  const points = history.points.filter((p) => typeof p.value === "number");
  if (!points.length) return h("p", { class: "empty" }, t("no_readings"));
  const W = 720, H = 260, L = 48, R = 12, T = 12, B = 28;
  const times = points.map((p) => new Date(p.time).getTime());
  const values = points.flatMap((p) => [p.value, p.min ?? p.value, p.max ?? p.value]);
  const lines = [limits?.low, limits?.high].filter((v) => typeof v === "number");
  let lo = Math.min(...values, ...lines), hi = Math.max(...values, ...lines);
  if (lo === hi) { lo -= 1; hi += 1; }
  const pad = (hi - lo) * 0.08;
  lo -= pad; hi += pad;
  const t0 = new Date(history.start).getTime(), t1 = new Date(history.stop).getTime();
  const x = (ms) => L + ((ms - t0) / (t1 - t0 || 1)) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
    "aria-label": `${history.sensor} ${history.metric} (${history.unit})` });
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    root.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    const label = svg("text", { x: L - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" });
    label.textContent = formatNumber(v);
    root.append(label);
  }
  for (const [ms, anchor] of [[t0, "start"], [t1, "end"]]) {
    const label = svg("text", { x: x(ms), y: H - 8, class: "axis", "text-anchor": anchor });
    label.textContent = when(new Date(ms).toISOString());
    root.append(label);
  }
  if (points.some((p) => p.min !== null && p.max !== null)) {
    const band = points.map((p, i) => `${x(times[i])},${y(p.max ?? p.value)}`)
      .concat(points.map((p, i) => `${x(times[i])},${y(p.min ?? p.value)}`).reverse());
    root.append(svg("polygon", { points: band.join(" "), class: "band" }));
  }
  for (const limit of lines) {
    root.append(svg("line", { x1: L, x2: W - R, y1: y(limit), y2: y(limit), class: "limit" }));
  }
  root.append(svg("polyline", { points: points.map((p, i) => `${x(times[i])},${y(p.value)}`).join(" "), class: "series" }));
  return root;
}

async function sensorPage(sensorId) {
  const sensor = await get(`/sensors/${encodeURIComponent(sensorId)}`);
  if (!sensor.metrics.some((m) => m.name === sensorView.metric)) sensorView.metric = sensor.metrics[0]?.name ?? null;
  const metric = sensor.metrics.find((m) => m.name === sensorView.metric);
  const stop = new Date();
  const start = new Date(stop.getTime() - RANGES[sensorView.range] * 3600 * 1000);
  const [history, alerts, buildings, rooms] = await Promise.all([
    metric ? get(`/readings/${encodeURIComponent(sensor.id)}/${encodeURIComponent(metric.name)}/history`
      + query({ start: start.toISOString(), stop: stop.toISOString() })) : null,
    get(`/alerts${query({ state: OPEN_ALERT_STATES, limit: 1000 })}`), get("/buildings"),
    get(`/rooms${query({ building: sensor.building })}`)]);
  const room = rooms.find((r) => r.id === sensor.room);
  const where = [buildings.find((b) => b.id === sensor.building)?.name ?? sensor.building, room?.floor_name ?? sensor.floor,
    room?.name ?? sensor.room];
  const rerender = (key) => (value) => { sensorView[key] = value; render(); };
  const limitRows = Object.entries(sensor.thresholds).map(([name, lim]) => h("tr", {},
    h("th", {}, name), ["low", "high", "nominal", "alarm_when"].map((k) => h("td", {}, lim[k] ?? "—")),
    h("td", {}, `${lim.delay_s} s`), h("td", {}, badge("severity", lim.severity)), h("td", {}, lim.source ?? "")));
  show(h("h1", {}, `${sensor.asset_name} · ${sensor.id}`),
    h("p", { class: "place" }, where.join(" · "), " · ",
      h("span", { class: `badge status-${sensor.live.status}` }, t(`status_${sensor.live.status}`)),
      ` ${t("last_seen")}: ${when(sensor.live.last_seen)}`),
    h("p", {}, `${t("latest")}: ${latestText(sensor) || "—"}`),
    h("section", { class: "cards sensor-alerts" }, alerts.filter((a) => a.sensor === sensor.id).map(alertCard)),
    h("form", { class: "filters", onsubmit: (e) => e.preventDefault() },
      select("metric", sensorView.metric, sensor.metrics.map((m) => [m.name, `${m.name} (${m.unit})`]), rerender("metric")),
      select("range", sensorView.range, Object.keys(RANGES).map((r) => [r, t(r)]), rerender("range"))),
    history ? chart(history, sensor.thresholds[metric.name]) : null,
    h("h2", {}, t("thresholds")),
    h("table", { class: "table" }, h("thead", {}, h("tr", {}, [t("metric"), t("low"), t("high"), t("nominal"), t("alarm_when"),
      t("delay"), t("severity"), t("source")].map((c) => h("th", {}, c)))), h("tbody", {}, limitRows)),
    h("p", {}, `${t("calibration_due")}: ${sensor.calibration_due ?? "—"}`));
}

// ---------------------------------------------------------------- excursions

async function excursionsPage() {
  const excursions = await get("/excursions");
  show(h("h1", {}, t("nav_excursions")), excursions.length ? h("table", { class: "table" },
    h("thead", {}, h("tr", {}, [t("sensor"), t("asset"), t("product"), t("started"), t("ended"), t("peak"), t("minutes_out"),
      t("mkt"), t("disposition")].map((c) => h("th", {}, c)))),
    h("tbody", {}, [...excursions].reverse().map((x) => h("tr", { class: x.ended_at ? "" : "ongoing" },
      h("td", {}, h("a", { href: `#/sensors/${encodeURIComponent(x.sensor)}` }, x.sensor)), h("td", {}, x.asset),
      h("td", {}, x.product ?? "—"), h("td", {}, when(x.started_at)), h("td", {}, x.ended_at ? when(x.ended_at) : t("ongoing")),
      h("td", {}, formatNumber(x.peak)), h("td", {}, formatNumber(x.minutes_out_of_range)),
      h("td", {}, x.mean_kinetic_temperature === null ? "—" : formatNumber(x.mean_kinetic_temperature)),
      h("td", { class: "disposition" }, dispositionCell(x))))))
    : h("p", { class: "empty" }, t("nothing")));
}

const DISPOSITIONS = ["usable", "quarantine", "discard"];

/** The decision on the product, and for on-call staff the form to sign it (again). */
function dispositionCell(excursion) {
  const cell = h("div", {}, excursion.disposition
    ? [h("strong", {}, t(`disposition_${excursion.disposition}`)), ` — ${excursion.disposition_by}, ${when(excursion.disposition_at)}`,
      excursion.disposition_note ? h("q", {}, excursion.disposition_note) : null]
    : h("span", { class: "muted" }, t("disposition_pending")));
  if (!can("oncall") || !excursion.ended_at) return cell;
  const form = h("form", { class: "note-form", hidden: true },
    h("select", { name: "disposition", "aria-label": t("disposition") },
      DISPOSITIONS.map((d) => h("option", { value: d }, t(`disposition_${d}`)))),
    h("input", { type: "text", name: "note", maxlength: 2000, placeholder: t("note_placeholder"), "aria-label": t("note") }),
    h("button", { type: "submit", class: "primary" }, t("confirm")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await post(`/excursions/${excursion.id}/disposition`,
        { disposition: form.disposition.value, note: form.note.value.trim() || null });
      await excursionsPage();
    } catch (error) {
      form.append(failure(error));
    }
  });
  cell.append(h("button", { class: "sign-off", onclick: (event) => { form.hidden = false; event.target.remove(); } }, t("sign_off")),
    form);
  return cell;
}

// ---------------------------------------------------------------- shell, stream, router

const PAGES = { alerts: alertsPage, status: statusPage, "work-orders": workOrdersPage, sensors: sensorsPage,
  excursions: excursionsPage };

function route() {
  const [page, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  return { page: PAGES[page] ? page : "alerts", arg: rest.length ? decodeURIComponent(rest.join("/")) : null };
}

function renderNav() {
  const nav = document.getElementById("nav");
  const who = me();
  const current = route().page;
  nav.replaceChildren(...(who ? Object.keys(PAGES).map((page) => h("a", { href: `#/${page}`,
    class: page === current ? "active" : null, "aria-current": page === current ? "page" : null },
  t(`nav_${page.replace("-", "_")}`))) : []));
  const bar = document.getElementById("session");
  bar.replaceChildren(
    who ? h("span", { id: "stream-status", class: `stream ${state.streamStatus}` }, t(state.streamStatus === "live" ? "live"
      : "reconnecting")) : null,
    who ? h("span", { class: "who" }, `${who.name} (${t(`role_${who.role}`)})`) : null,
    h("button", { id: "language", type: "button", onclick: () => { setLang(lang() === "en" ? "zh" : "en"); render(); } },
      t("language")),
    who ? h("button", { id: "sign-out", type: "button", onclick: signOut }, t("sign_out")) : null);
  document.title = t("app_title");
  document.getElementById("brand").textContent = t("app_title");
}

function loginPage() {
  const input = h("input", { id: "token", type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const message = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "login" }, h("h1", {}, t("login_title")), h("p", { class: "hint" }, t("login_hint")),
    h("label", {}, t("token"), input), h("button", { type: "submit", class: "primary" }, t("sign_in")), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await signIn(input.value.trim());
      startStream();
      render();
    } catch (error) {
      message.textContent = error instanceof ApiError ? t("token_refused") : t("server_unreachable");
    }
  });
  show(form);
}

function setStreamStatus(status) {
  if (status === "refused") return signOut();
  const connecting = state.streamStatus !== "live" && status === "live" && !state.streamStarted;
  state.streamStatus = status;
  if (connecting) {
    // The stream starts at the newest change: load the page again, so a change made
    // between the page's first load and the stream's start is not missed.
    state.streamStarted = true;
    if (document.activeElement?.tagName !== "INPUT") render();
  }
  const badgeEl = document.getElementById("stream-status");
  if (badgeEl) {
    badgeEl.className = `stream ${status}`;
    badgeEl.textContent = t(status === "live" ? "live" : "reconnecting");
  }
}

let statusRefresh = null;

function onStreamEvent(kind, change) {
  const page = route().page;
  if (kind === "alert") {
    state.alerts.set(change.alert.id, change.alert);
    if (page === "alerts") renderAlertList();
    if (page === "status") {
      clearTimeout(statusRefresh); // a burst of changes redraws the board once
      statusRefresh = setTimeout(render, 500);
    }
  } else if (kind === "work_order") {
    state.workOrders.set(change.work_order.id, change.work_order);
    if (page === "work-orders") renderBoard();
  }
}

function startStream() {
  state.stopStream?.();
  state.streamStarted = false;
  state.stopStream = followStream({ onEvent: onStreamEvent, onStatus: setStreamStatus });
}

function signOut() {
  state.stopStream?.();
  state.stopStream = null;
  forgetToken();
  render();
}

let rendering = null;
let renderAgain = false;

/** Draw the page the URL names. One draw at a time: a request for another while
 * one loads draws again once it is done, so a slow page never covers a newer one. */
async function render() {
  if (rendering) {
    renderAgain = true;
    return rendering;
  }
  rendering = draw();
  try {
    await rendering;
  } finally {
    rendering = null;
  }
  if (renderAgain) {
    renderAgain = false;
    await render();
  }
}

async function draw() {
  alertCards.clear(); // built in the previous language, or for another page
  workOrderCards.clear();
  renderNav();
  if (!token() || !me()) return loginPage();
  const { page, arg } = route();
  const shown = page === "sensors" && arg ? "sensor" : page;
  main.setAttribute("aria-busy", "true");
  delete main.dataset.page;
  try {
    await (shown === "sensor" ? sensorPage(arg) : PAGES[page]());
  } catch (error) {
    show(failure(error));
  } finally {
    main.removeAttribute("aria-busy");
    main.dataset.page = shown; // what is on screen (and that it has loaded)
  }
}

setLang(lang());
window.addEventListener("hashchange", render);
if (token() && me()) startStream();
render();
