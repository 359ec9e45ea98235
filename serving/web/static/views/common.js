// Bits shared by the views: enum lists, level/state badges, error display, role checks.
import { ApiError } from "../api.js";
import { h } from "../dom.js";
import { labelled, t, tEnum } from "../i18n.js";

export const STATES = ["discovered", "registered", "dispatched", "in_rectification", "rectified", "reviewed",
  "closed"];
export const LEVELS = ["red", "orange", "yellow", "blue"];
export const PERMIT_TYPES = ["hot_work", "confined_space", "work_at_height", "lifting", "electrical",
  "excavation"];

// A view's data loads: only the newest of overlapping loads may render (a slow response to the previous
// filter must not replace the current one), and nothing renders once the view has been left.
export function loadGate() {
  let newest = 0;
  let left = false;
  return {
    begin() { const mine = ++newest; return () => !left && mine === newest; },
    live: () => !left,
    leave() { left = true; },
  };
}

export function levelBadge(level) {
  return h(`span.badge.level-${level}`, { "data-level": level }, tEnum("level", level));
}

export function stateBadge(state) {
  return h(`span.badge.state`, { "data-state": state }, tEnum("state", state));
}

export function hasRole(me, ...roles) {
  return me.role === "admin" || roles.includes(me.role);
}

/** A readable message for an API failure (404 on a missing route: the server does not offer it yet). */
export function errorText(err) {
  if (err instanceof ApiError) {
    if (err.status === 403) return `${t("common.forbidden")} (${err.message})`;
    if (err.status === 404 && err.code === "http_404") return t("common.unavailable");
    return labelled(`${t("common.error")} ${err.status}`, err.message);
  }
  return labelled(t("common.error"), err && err.message ? err.message : err);
}

export function errorBlock(err, retry) {
  return h("div.msg.error", { role: "alert" }, errorText(err), " ",
    retry ? h("button.link", { type: "button", onclick: retry }, t("common.retry")) : null);
}

export function findingLabel(kind) {
  return tEnum("finding", kind);
}

export function select(name, options, current, { allLabel } = {}) {
  const el = h("select", { name });
  if (allLabel) el.append(h("option", { value: "" }, allLabel));
  for (const [value, label] of options) {
    const opt = h("option", { value }, label);
    if (value === current) opt.selected = true;
    el.append(opt);
  }
  return el;
}
