// Daily KPI page: opened/closed bars, overdue and mean time to close, rate lines, summary and repeats.
import { api, download } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import { clear, field, h } from "../dom.js";
import { fmtPct, lang, t } from "../i18n.js";
import { errorBlock, loadGate } from "./common.js";

const iso = (d) => d.toISOString().slice(0, 10);

/** Sum the per-area rows into one row per day: counts add up, rates are weighted by what they are a rate
 * of (repeats by hazards opened, time to close by hazards closed, PPE compliance pooled over people). */
export function byDay(rows, from = null, to = null) {
  const days = new Map();
  for (const r of rows) {
    const d = days.get(r.day) || { day: r.day, opened: 0, closed: 0, closed_within_deadline: 0, overdue: 0,
      mttc: [], repeat: [], ppe_ok: 0, ppe_n: 0 };
    d.opened += r.opened || 0;
    d.closed += r.closed || 0;
    d.closed_within_deadline += r.closed_within_deadline || 0;
    d.overdue += r.overdue || 0;
    if (r.mean_time_to_close_h != null) d.mttc.push([r.mean_time_to_close_h, r.closed || 1]);
    if (r.repeat_rate != null) d.repeat.push([r.repeat_rate, r.opened || 1]);
    d.ppe_ok += r.ppe_compliant || 0;
    d.ppe_n += r.ppe_checked || 0;
    days.set(r.day, d);
  }
  const mean = (pairs) => {
    const w = pairs.reduce((s, [, n]) => s + n, 0);
    return w ? pairs.reduce((s, [v, n]) => s + v * n, 0) / w : null;
  };
  // Every day of the range gets a slot (quiet days count zero, their rates are unknown).
  if (from && to) {
    for (let d = new Date(`${from}T00:00:00Z`); iso(d) <= to; d = new Date(d.getTime() + 864e5)) {
      if (!days.has(iso(d))) days.set(iso(d), { day: iso(d), opened: 0, closed: 0, closed_within_deadline: 0,
        overdue: 0, mttc: [], repeat: [], ppe_ok: 0, ppe_n: 0 });
    }
  }
  return [...days.values()].sort((a, b) => (a.day < b.day ? -1 : 1)).map((d) => ({
    ...d, mttc: mean(d.mttc), repeat: mean(d.repeat), ppe: d.ppe_n ? d.ppe_ok / d.ppe_n : null }));
}

export function render(root) {
  const today = new Date();
  const from = h("input", { type: "date", name: "from", value: iso(new Date(today.getTime() - 29 * 864e5)) });
  const to = h("input", { type: "date", name: "to", value: iso(today) });
  const area = h("input", { name: "area", placeholder: t("common.area") });
  const out = h("div", { id: "kpi-charts" });
  const repeats = h("div");
  // The printable sheet (PDF, PNG) of the same range and area, in the UI's language.
  const sheet = (ext) => {
    const q = new URLSearchParams({ from: from.value, to: to.value, lang: lang() === "zh-CN" ? "zh" : "en" });
    if (area.value.trim()) q.set("area", area.value.trim());
    download(`/kpis/sheet.${ext}?${q}`, `hazardeye-kpis-${from.value}-${to.value}.${ext}`)
      .catch((err) => out.prepend(errorBlock(err)));
  };
  root.append(h("div.page-head", h("h1", {}, t("kpis.title")), h("div.toolbar",
      h("button.link", { type: "button", id: "sheet-pdf", onclick: () => sheet("pdf") }, t("kpis.sheet_pdf")),
      h("button.link", { type: "button", id: "sheet-png", onclick: () => sheet("png") }, "PNG"))),
    h("form.filters", { onsubmit: (e) => { e.preventDefault(); load(); } },
      field(t("kpis.from"), from), field(t("kpis.to"), to), area,
      h("button", { type: "submit" }, t("board.filter"))), out, repeats);
  const gate = loadGate();

  async function load() {
    clear(out).append(h("p.muted", {}, t("common.loading")));
    const q = new URLSearchParams({ from: from.value, to: to.value });
    if (area.value.trim()) q.set("area", area.value.trim());
    const current = gate.begin();
    try {
      const rows = await api(`/kpis?${q}`);
      if (current()) draw(byDay(Array.isArray(rows) ? rows : rows.items || [], from.value, to.value));
    } catch (err) {
      if (current()) clear(out).append(errorBlock(err, load));
    }
  }

  function draw(days) {
    clear(out);
    if (!days.some((d) => d.opened || d.closed || d.overdue || d.ppe_n)) {
      out.append(h("p.muted", {}, t("common.empty")));
      return;
    }
    const labels = days.map((d) => d.day.slice(5));
    const sum = (k) => days.reduce((s, d) => s + d[k], 0);
    const opened = sum("opened");
    const closed = sum("closed");
    const ppeOk = sum("ppe_ok");
    const ppeN = sum("ppe_n");
    out.append(
      h("section.card.summary", h("h2", {}, t("kpis.summary")), h("div.tiles",
        tile(t("kpis.opened"), opened), tile(t("kpis.closed"), closed),
        tile(t("kpis.closure_rate"), opened ? fmtPct(closed / opened) : "—"),
        tile(t("kpis.closed_within"), closed ? fmtPct(sum("closed_within_deadline") / closed) : "—"),
        tile(t("kpis.overdue"), days[days.length - 1].overdue),
        tile(t("kpis.ppe_pooled"), ppeN ? fmtPct(ppeOk / ppeN) : "—")),
        ppeN ? h("p.muted.small", { id: "ppe-note" }, t("kpis.ppe_note", { ok: ppeOk, n: ppeN })) : null),
      h("section.card", h("h2", {}, t("kpis.opened_closed")), barChart(t("kpis.opened_closed"), labels, [
        { label: t("kpis.opened"), cls: "s1", values: days.map((d) => d.opened) },
        { label: t("kpis.closed"), cls: "s2", values: days.map((d) => d.closed) },
        { label: t("kpis.closed_within"), cls: "s3", values: days.map((d) => d.closed_within_deadline) },
      ])),
      h("section.card", h("h2", {}, `${t("kpis.overdue")} / ${t("kpis.mttc")}`),
        lineChart(t("kpis.overdue"), labels, [
          { label: t("kpis.overdue"), cls: "s4", values: days.map((d) => d.overdue) },
          { label: t("kpis.mttc"), cls: "s1", values: days.map((d) => d.mttc) },
        ])),
      h("section.card", h("h2", {}, t("kpis.rates")), lineChart(t("kpis.rates"), labels, [
        { label: t("kpis.ppe"), cls: "s2", values: days.map((d) => d.ppe) },
        { label: t("kpis.repeat_rate"), cls: "s4", values: days.map((d) => d.repeat) },
      ], { max: 1, fmt: (v) => `${Math.round(v * 100)}%` })),
      h("section.card", h("h2", {}, t("kpis.day")), h("div.table-wrap",
        table(days.filter((d) => d.opened || d.closed || d.overdue || d.ppe_n).reverse()))));
  }

  async function loadRepeats() {
    try {
      const rows = await api("/hazards/repeats");
      const items = Array.isArray(rows) ? rows : rows.items || [];
      if (!gate.live() || !items.length) return;
      clear(repeats).append(h("section.card", h("h2", {}, t("kpis.repeats")), h("div.table-wrap",
        h("table", h("tbody", items.map((r) => h("tr", Object.values(r).filter((v) => typeof v !== "object")
          .map((v) => h("td", {}, String(v))))))))));
    } catch { /* optional report */ }
  }

  load();
  loadRepeats();
  return () => { gate.leave(); };
}

function tile(label, value) {
  return h("div.tile", h("div.value", {}, String(value)), h("div.muted.small", {}, label));
}

function table(days) {
  const cols = [["day", t("kpis.day"), (v) => v], ["opened", t("kpis.opened"), (v) => v],
    ["closed", t("kpis.closed"), (v) => v], ["overdue", t("kpis.overdue"), (v) => v],
    ["mttc", t("kpis.mttc"), (v) => (v == null ? "—" : v.toFixed(1))], ["ppe", t("kpis.ppe"), fmtPct],
    ["repeat", t("kpis.repeat_rate"), fmtPct]];
  return h("table", h("thead", h("tr", cols.map(([, label]) => h("th", {}, label)))),
    h("tbody", days.map((d) => h("tr", cols.map(([k, , f]) => h("td", {}, String(f(d[k]))))))));
}
