// Hazards board (隐患台账): filters by state/level/area, overdue first, level colours, paging, CSV export.
import { api, download } from "../api.js";
import { clear, h } from "../dom.js";
import { fmtTime, labelled, lang, t, tEnum } from "../i18n.js";
import { LEVELS, STATES, errorBlock, hasRole, levelBadge, loadGate, select, stateBadge } from "./common.js";
import { manualForm } from "./manual.js";

const PAGE = 50;
// Filters survive navigating to a hazard and back.
const filters = { state: "", level: "", area: "", overdue: false, offset: 0 };

export function render(root, _params, ctx) {
  const list = h("div.hazard-list", { id: "hazard-list" });
  const pager = h("div.pager");
  const stateSel = select("state", STATES.map((s) => [s, tEnum("state", s)]), filters.state,
    { allLabel: labelled(t("common.state"), t("common.all")) });
  const levelSel = select("level", LEVELS.map((l) => [l, tEnum("level", l)]), filters.level,
    { allLabel: labelled(t("common.level"), t("common.all")) });
  const areaIn = h("input", { name: "area", placeholder: t("board.area_ph"), value: filters.area });
  const overdueIn = h("input", { type: "checkbox", name: "overdue", checked: filters.overdue });
  const form = h("form.filters", {
    onsubmit: (e) => {
      e.preventDefault();
      Object.assign(filters, { state: stateSel.value, level: levelSel.value, area: areaIn.value.trim(),
        overdue: overdueIn.checked, offset: 0 });
      load();
    },
  }, stateSel, levelSel, areaIn, h("label.check", {}, overdueIn, t("board.overdue_only")),
  h("button", { type: "submit" }, t("board.filter")));
  for (const el of [stateSel, levelSel, overdueIn]) el.addEventListener("change", () => form.requestSubmit());

  // The ledger (台账) export uses the board's filters and the UI's language for its headers.
  const exportLedger = (ext) => download(`/hazards/export.${ext}?${query({ limit: false })}`,
    `hazard-ledger.${ext}`).catch((err) => list.prepend(errorBlock(err)));
  const tools = h("div.toolbar",
    h("button.link", { type: "button", onclick: () => exportLedger("csv") }, t("board.export")),
    h("button.link", { type: "button", onclick: () => exportLedger("xlsx") }, "XLSX"));
  const manualBox = h("div");
  if (hasRole(ctx.me, "inspector", "safety_engineer")) {
    tools.append(h("button.link", { type: "button", onclick: () => {
      if (manualBox.firstChild) clear(manualBox);
      else manualBox.append(manualForm((hazard) => { location.hash = `#/hazards/${hazard.id}`; }));
    } }, t("board.report")));
  }
  root.append(h("div.page-head", h("h1", {}, t("board.title")), tools), manualBox, form, list, pager);

  const gate = loadGate();
  function query({ limit }) {
    const q = limit ? new URLSearchParams({ limit: String(PAGE), offset: String(filters.offset) })
      : new URLSearchParams({ lang: lang() === "zh-CN" ? "zh" : "en" });
    if (filters.state) q.set("state", filters.state);
    if (filters.level) q.set("level", filters.level);
    if (filters.area) q.set("area", filters.area);
    if (filters.overdue) q.set("overdue", "true");
    return q;
  }

  async function load() {
    clear(list).append(h("p.muted", {}, t("common.loading")));
    const q = query({ limit: true });
    const current = gate.begin();
    try {
      const page = await api(`/hazards?${q}`);
      if (!current()) return;
      renderPage(page);
    } catch (err) {
      if (current()) clear(list).append(errorBlock(err, load));
    }
  }

  function renderPage(page) {
    clear(list);
    const items = [...(page.items || [])];
    // The server orders overdue first; keep that order stable even if a page mixes them.
    items.sort((a, b) => Number(Boolean(b.overdue)) - Number(Boolean(a.overdue)));
    if (!items.length) list.append(h("p.muted", {}, t("common.empty")));
    for (const hz of items) list.append(card(hz));
    clear(pager);
    const total = page.total ?? items.length;
    pager.append(h("span.muted", {}, t("common.total", { n: total })));
    if (filters.offset > 0) {
      pager.append(h("button", { type: "button", onclick: () => {
        filters.offset = Math.max(0, filters.offset - PAGE); load();
      } }, t("common.prev")));
    }
    if (filters.offset + PAGE < total) {
      pager.append(h("button", { type: "button", onclick: () => { filters.offset += PAGE; load(); } },
        t("common.next")));
    }
  }

  load();
  const timer = setInterval(() => { if (!document.hidden) load(); }, 30000);
  return () => { gate.leave(); clearInterval(timer); };
}

function card(hz) {
  return h(`a.hazard-card.lv-${hz.level}`, { href: `#/hazards/${hz.id}`, "data-hazard-id": hz.id,
    "data-state": hz.state },
  h("div.row",
    h("strong.kind", {}, `#${hz.id} ${kindLabel(hz.kind)}`),
    levelBadge(hz.level), stateBadge(hz.state),
    hz.overdue ? h("span.badge.overdue", {}, t("hazard.overdue")) : null,
    hz.repeat_flag ? h("span.badge.repeat", {}, t("hazard.repeat")) : null),
  h("div.row.muted",
    h("span", {}, labelled(t("common.zone"), hz.zone)),
    hz.area ? h("span", {}, labelled(t("common.area"), hz.area)) : null,
    hz.equipment_id ? h("span", {}, labelled(t("common.equipment"), hz.equipment_id)) : null),
  hz.description ? h("div.desc", {}, hz.description) : null,
  h("div.row.muted.small",
    h("span", {}, labelled(t("hazard.discovered"), fmtTime(hz.discovered_at ?? hz.created_at))),
    hz.state !== "closed" && hz.fix_by ? h("span", {}, labelled(t("hazard.fix_by"), fmtTime(hz.fix_by))) : null,
    h("span", {}, t("hazard.evidence_n", { n: hz.evidence_count ?? 0 }))));
}

export function kindLabel(kind) {
  const translated = tEnum("finding", kind);
  return translated;
}
