// Permits to work (作业许可): list with filters, request form, two-person approval, suspension.
import { api } from "../api.js";
import { clear, field, h, messageBox } from "../dom.js";
import { fmtTime, labelled, t, tEnum } from "../i18n.js";
import { PERMIT_TYPES, errorBlock, errorText, hasRole, loadGate, select } from "./common.js";

function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function render(root, _params, ctx) {
  const list = h("div.permit-list", { id: "permit-list" });
  const msg = messageBox();
  const zoneFilter = h("input", { name: "zone", placeholder: t("common.zone") });
  const stateFilter = select("state", ["pending", "active", "suspended"].map((s) => [s, tEnum("pstatus", s)]), "",
    { allLabel: labelled(t("common.state"), t("common.all")) });
  const filters = h("form.filters", { onsubmit: (e) => { e.preventDefault(); load(); } },
    zoneFilter, stateFilter, h("button", { type: "submit" }, t("board.filter")));
  stateFilter.addEventListener("change", () => load());
  root.append(h("div.page-head", h("h1", {}, t("permits.title"))), requestForm(), filters, msg, list);
  const gate = loadGate();

  function requestForm() {
    const now = new Date();
    const form = h("form.card.stack", {
      id: "permit-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const d = new FormData(form);
        const body = {
          type: d.get("type"), zone: String(d.get("zone")).trim(),
          valid_from: new Date(String(d.get("valid_from"))).toISOString(),
          valid_to: new Date(String(d.get("valid_to"))).toISOString(),
          min_people: Number(d.get("min_people")),
          max_people: d.get("max_people") ? Number(d.get("max_people")) : null,
          watcher_required: d.get("watcher_required") === "on",
          description: String(d.get("description") || ""),
        };
        try {
          await api("/permits", { method: "POST", json: body });
          msg.show("✓", "ok");
          form.reset();
          load();
        } catch (err) {
          msg.show(errorText(err), "error");
        }
      },
    },
    h("h2", {}, t("permits.request")),
    field(t("permits.type"), select("type", PERMIT_TYPES.map((p) => [p, tEnum("permit", p)]), "hot_work")),
    field(t("common.zone"), h("input", { name: "zone", required: true })),
    h("div.grid2",
      field(t("permits.valid_from"), h("input", { type: "datetime-local", name: "valid_from", required: true,
        value: localInput(now) })),
      field(t("permits.valid_to"), h("input", { type: "datetime-local", name: "valid_to", required: true,
        value: localInput(new Date(now.getTime() + 8 * 3600e3)) }))),
    h("div.grid2",
      field(t("permits.min_people"), h("input", { type: "number", name: "min_people", min: 1, value: 2 })),
      field(t("permits.max_people"), h("input", { type: "number", name: "max_people", min: 1 }))),
    h("label.check", {}, h("input", { type: "checkbox", name: "watcher_required", checked: true }),
      t("permits.watcher")),
    field(t("common.description"), h("input", { name: "description" })),
    h("button.primary", { type: "submit" }, t("permits.submit")));
    return h("details.card-wrap", h("summary", {}, t("permits.request")), form);
  }

  async function load() {
    const q = new URLSearchParams();
    if (zoneFilter.value.trim()) q.set("zone", zoneFilter.value.trim());
    if (stateFilter.value) q.set("state", stateFilter.value);
    const current = gate.begin();
    try {
      const body = await api(`/permits?${q}`);
      if (!current()) return;
      const permits = Array.isArray(body) ? body : body.items || [];
      clear(list);
      if (!permits.length) list.append(h("p.muted", {}, t("common.empty")));
      for (const p of permits) list.append(row(p));
    } catch (err) {
      if (current()) clear(list).append(errorBlock(err, load));
    }
  }

  function row(p) {
    const { id, type, status } = p;
    const approvals = p.approvals;
    const act = async (path, body) => {
      try {
        await api(`/permits/${id}/${path}`, { method: "POST", json: body });
        load();
      } catch (err) {
        msg.show(errorText(err), "error");
      }
    };
    const buttons = [];
    if (status === "pending" && hasRole(ctx.me, "safety_engineer")) {
      buttons.push(h("button.primary", { type: "button", "data-action": "approve",
        onclick: () => act("approve", {}) }, t("permits.approve")));
    }
    if (status !== "suspended" && hasRole(ctx.me, "safety_engineer")) {
      const reason = h("input", { name: "reason", placeholder: t("common.reason") });
      buttons.push(reason, h("button.danger", { type: "button", "data-action": "suspend", onclick: () => {
        if (!reason.value.trim()) { reason.focus(); return; }
        act("suspend", { reason: reason.value.trim() });
      } }, t("permits.suspend")));
    }
    return h("article.card.permit", { "data-permit": id, "data-status": status },
      h("div.row", h("strong", {}, `#${id} ${tEnum("permit", type)}`),
        h(`span.badge.ps-${status}`, {}, tEnum("pstatus", status))),
      h("div.muted.small", {}, `${labelled(t("common.zone"), p.zone)} · ${fmtTime(p.valid_from)} – ${fmtTime(p.valid_to)}`),
      h("div.muted.small", {}, [
        approvals !== undefined ? labelled(t("permits.approvals"), approvals) : "",
        ` · ${labelled(t("permits.people"), `${p.min_people}–${p.max_people ?? "∞"}`)}`,
        p.watcher_required ? ` · ${t("permits.watcher")}` : "",
        p.description ? ` · ${p.description}` : "",
        p.suspend_reason ? ` · ${labelled(t("common.reason"), p.suspend_reason)}` : ""].join("")),
      buttons.length ? h("div.inline", buttons) : null);
  }

  load();
  return () => { gate.leave(); };
}
