// Models page: the registry's cards (classes, input size, metrics, licence, training data), hot reload,
// and the audit chain check.
import { api } from "../api.js";
import { clear, h, messageBox } from "../dom.js";
import { labelled, t } from "../i18n.js";
import { errorBlock, errorText, hasRole, loadGate } from "./common.js";

export function render(root, _params, ctx) {
  const list = h("div.model-list", { id: "model-list" });
  const msg = messageBox();
  const tools = h("div.toolbar");
  if (hasRole(ctx.me, "safety_engineer")) {
    tools.append(h("button", { type: "button", onclick: async () => {
      try { await api("/models/reload", { method: "POST", json: {} }); msg.show(t("models.reloaded"), "ok"); load(); }
      catch (err) { msg.show(errorText(err), "error"); }
    } }, t("models.reload")));
  }
  tools.append(h("button", { type: "button", onclick: async () => {
    try {
      const r = await api("/audit/verify");
      msg.show(labelled(t("models.audit"), `${r.ok ? "OK" : "✗"} · ${r.checked} ${r.message ?? ""}`), r.ok ? "ok" : "error");
    } catch (err) { msg.show(errorText(err), "error"); }
  } }, t("models.audit_verify")));
  root.append(h("div.page-head", h("h1", {}, t("models.title")), tools), msg, list);
  const gate = loadGate();

  async function load() {
    const current = gate.begin();
    try {
      const body = await api("/models");
      if (!current()) return;
      const models = Array.isArray(body) ? body : body.items || [];
      clear(list);
      if (!models.length) list.append(h("p.muted", {}, t("common.empty")));
      for (const m of models) list.append(card(m));
    } catch (err) {
      if (current()) clear(list).append(errorBlock(err, load));
    }
  }
  load();
  return () => { gate.leave(); };
}

function fmtValue(v) {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(3);
  if (v && typeof v === "object") return Object.entries(v).map(([k, x]) => `${k} ${fmtValue(x)}`).join(", ");
  return String(v);
}

function card(m) {
  const size = Array.isArray(m.input_size) ? m.input_size.join("×") : m.input_size;
  const metrics = m.metrics;
  return h("article.card.model", { "data-model": `${m.name}@${m.version}` },
    h("div.row", h("strong", {}, `${m.name}@${m.version}`), m.current ? h("span.badge.ok", {}, t("models.current")) : null,
      m.precision ? h("span.badge", {}, m.precision) : null),
    m.description ? h("p.small", {}, m.description) : null,
    h("dl.facts",
      h("dt", {}, t("models.classes")), h("dd", {}, (m.classes || []).join(", ")),
      h("dt", {}, t("models.input")), h("dd", {}, size ?? "—"),
      h("dt", {}, t("models.licence")), h("dd", {}, m.licence ?? "—"),
      h("dt", {}, t("models.trained_on")), h("dd", {}, fmtValue(m.trained_on ?? "—"))),
    metrics ? metricsView(metrics) : null);
}

function metricsView(mx) {
  const per = Object.entries(mx.per_class || {});
  const cols = per.length ? Object.keys(per[0][1]) : [];
  return h("div",
    h("h3", {}, labelled(t("models.metrics"), `mAP50 ${fmtValue(mx.map50)} · mAP50-95 ${fmtValue(mx.map50_95)}`)),
    h("p.muted.small", {}, [mx.dataset, mx.split, mx.images != null ? `${mx.images} img` : null]
      .filter(Boolean).join(" · ")),
    per.length ? h("div.table-wrap", h("table.metrics",
      h("thead", h("tr", h("th", {}, ""), cols.map((c) => h("th", {}, c)))),
      h("tbody", per.map(([cls, v]) => h("tr", h("th", {}, cls), cols.map((c) => h("td", {}, fmtValue(v[c])))))))) : null,
    mx.notes ? h("p.muted.small", {}, mx.notes) : null);
}
