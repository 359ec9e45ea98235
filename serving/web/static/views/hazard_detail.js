// One hazard: facts, before/after side by side, evidence timeline (images as blob URLs), history, and the
// transition buttons that the hazard's state and the user's role allow.
import { api, objectUrl } from "../api.js";
import { asyncImg, clear, field, h, messageBox } from "../dom.js";
import { fmtPct, fmtTime, labelled, reasonText, t, tEnum } from "../i18n.js";
import { errorBlock, errorText, hasRole, levelBadge, loadGate, stateBadge } from "./common.js";
import { kindLabel } from "./board.js";

export function render(root, [id], ctx) {
  const gate = loadGate();
  async function load() {
    clear(root).append(h("p.muted", {}, t("common.loading")));
    const current = gate.begin();
    try {
      const detail = await api(`/hazards/${id}`);
      if (current()) show(root, detail, ctx, load);
    } catch (err) {
      if (current()) clear(root).append(h("a.back", { href: "#/hazards" }, t("hazard.back")), errorBlock(err, load));
    }
  }
  load();
  return () => { gate.leave(); };
}

function parsePayload(ev) {
  if (ev.payload && typeof ev.payload === "object") return ev.payload;
  if (typeof ev.payload === "string") {
    try { return JSON.parse(ev.payload); } catch { return { text: ev.payload }; }
  }
  return null;
}

function show(root, detail, ctx, reload) {
  const hz = detail.hazard;
  const evidence = [...(detail.evidence || [])].sort((a, b) => a.seq - b.seq);
  const events = detail.events || [];
  clear(root).append(
    h("a.back", { href: "#/hazards" }, t("hazard.back")),
    h("div.page-head", h("h1", { id: "hazard-title" }, `#${hz.id} ${kindLabel(hz.kind)}`),
      h("div.row", levelBadge(hz.level), h("span", { id: "hazard-state" }, stateBadge(hz.state)),
        hz.overdue ? h("span.badge.overdue", {}, t("hazard.overdue")) : null,
        hz.repeat_flag ? h("span.badge.repeat", {}, t("hazard.repeat")) : null)),
    facts(hz),
    actions(hz, evidence, ctx, reload),
    hz.kind === "leak.suspected" ? watchedChange(evidence) : null,
    beforeAfter(evidence),
    h("section.card", h("h2", {}, t("hazard.timeline")), timeline(evidence, hz.kind)),
    h("section.card", h("h2", {}, t("hazard.history")), history(events)),
  );
}

function facts(hz) {
  const rows = [
    [t("common.zone"), hz.zone], [t("common.area"), hz.area], [t("common.equipment"), hz.equipment_id],
    [t("common.description"), hz.description || kindLabel(hz.kind)],
    [t("hazard.risk"), hz.likelihood && hz.severity ? `${hz.likelihood} × ${hz.severity}` : null],
    [t("hazard.assignee"), hz.assignee],
    [t("hazard.source"), sourceText(hz)],
    [t("hazard.discovered"), fmtTime(hz.discovered_at ?? hz.created_at)],
    [t("hazard.respond_by"), fmtTime(hz.respond_by)], [t("hazard.fix_by"), fmtTime(hz.fix_by)],
    [t("hazard.closed_at"), hz.closed_at ? fmtTime(hz.closed_at) : null],
    [t("hazard.escalation"), hz.escalation_level ? String(hz.escalation_level) : null],
  ].filter(([, v]) => v !== null && v !== undefined && v !== "");
  return h("dl.facts.card", rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

/** Where the hazard came from: a camera by its name (looked up; a camera this server no longer polls
 * keeps its id), anything else by kind and id. */
function sourceText(hz) {
  if (!hz.source_kind) return null;
  const id = String(hz.source_id ?? "");
  const kind = tEnum("source", hz.source_kind);
  const text = h("span", { id: "hazard-source" }, `${kind} ${id.slice(0, 12)}`);
  if (hz.source_kind === "camera" && id) {
    api(`/cameras/${encodeURIComponent(id)}`)
      .then((camera) => { if (camera?.name) text.textContent = `${kind} ${camera.name} (${id})`; })
      .catch(() => {});
  }
  return text;
}

function latestVerification(evidence) {
  const v = [...evidence].reverse().find((e) => e.kind === "verification");
  // The comparison image is the verification evidence's own object (inline and background paths alike).
  return v ? { ...parsePayload(v), side_by_side_key: v.object_keys?.[0] ?? null } : null;
}

/** The verdict on the latest after photos: null while its check is still running (or none was made). */
function currentVerdict(evidence) {
  const after = [...evidence].reverse().find((e) => e.kind === "after_photo");
  const v = [...evidence].reverse().find((e) => e.kind === "verification");
  if (!v || (after && v.seq < after.seq)) return null;
  return parsePayload(v)?.verdict ?? null;
}

/** A watched region's suspected leak: its own before / now image (the snapshot's second object), full width
 * above everything else, since the raw snapshot alone rarely shows a puddle at phone size. */
function watchedChange(evidence) {
  const first = evidence.find((e) => e.kind === "snapshot" && e.object_keys?.length > 1);
  if (!first) return null;
  const caption = t("hazard.watched_change");
  const img = zoomable(asyncImg(() => objectUrl(first.object_keys.at(-1)), caption));
  return h("section.card", h("h2", {}, caption), h("figure.pane.wide", { id: "watched-change" }, img));
}

/** An image that opens at full size when tapped (its blob URL, in a new tab). */
function zoomable(img) {
  img.classList.add("zoomable");
  img.addEventListener("click", () => { if (img.src) window.open(img.src, "_blank", "noopener"); });
  return img;
}

function beforeAfter(evidence) {
  const before = evidence.find((e) => (e.kind === "before_photo" || e.kind === "snapshot") && e.object_keys?.length);
  const after = [...evidence].reverse().find((e) => e.kind === "after_photo" && e.object_keys?.length);
  const verification = latestVerification(evidence);
  if (!before && !after) return null;
  const pane = (label, ev) => h("figure.pane", h("figcaption", {}, label),
    ev ? asyncImg(() => objectUrl(ev.object_keys[0]), label) : h("div.placeholder", {}, "—"));
  const section = h("section.card", h("h2", {}, t("hazard.before_after")),
    h("div.side-by-side", { id: "before-after" }, pane(t("hazard.before"), before), pane(t("hazard.after"), after)));
  if (verification) {
    section.append(verdictLine(verification));
    if (verification.side_by_side_key) {
      section.append(h("figure.pane.wide", h("figcaption", {}, t("hazard.side_by_side")),
        asyncImg(() => objectUrl(verification.side_by_side_key), t("hazard.side_by_side"))));
    }
  }
  return section;
}

function verdictLine(v) {
  // Scores of a comparison that never registered (identical photo, featureless, unreadable) say nothing:
  // the reasons say what happened instead.
  const registered = Boolean(v.match_score) || Boolean(v.inliers);
  const regions = v.regions_checked > 1 && v.regions_resolved !== null && v.regions_resolved !== undefined;
  return h("div.verdict", { "data-verdict": v.verdict },
    h("div.row",
      h(`span.badge.verdict-${v.verdict}`, {}, tEnum("verdict", v.verdict)),
      regions ? h("span.regions", {}, t("hazard.regions", { ok: v.regions_resolved, n: v.regions_checked })) : null,
      registered ? h("span", {}, `${t("hazard.match_score")} ${fmtPct(v.match_score)}`) : null,
      registered ? h("span", {}, `${t("hazard.inliers")} ${v.inliers}`) : null,
      v.hazard_score !== undefined && v.hazard_score !== null
        ? h("span", {}, `${t("hazard.hazard_score")} ${Number(v.hazard_score).toFixed(2)}`) : null),
    v.reasons?.length ? h("ul.reasons.muted.small", v.reasons.map((r) => h("li", {}, reasonText(r)))) : null);
}

// A watched region's change is certain and its cause is not: its fixed "confidence" would read as a score.
const NO_CONFIDENCE = new Set(["leak.suspected"]);

function timeline(evidence, kind) {
  if (!evidence.length) return h("p.muted", {}, t("common.empty"));
  return h("ol.timeline", evidence.map((ev) => {
    const payload = parsePayload(ev);
    return h("li", { "data-kind": ev.kind },
      h("div.row", h("strong", {}, tEnum("ev", ev.kind)), h("span.muted", {},
        `${fmtTime(ev.at)} · ${ev.by ?? ev.created_by ?? ""}`)),
      ev.kind === "verification" && payload ? verdictLine(payload)
        : payloadView(payload, NO_CONFIDENCE.has(kind) ? ["confidence"] : []),
      ev.object_keys?.length ? h("div.thumbs", ev.object_keys.map((key) => zoomable(asyncImg(() => objectUrl(key),
        tEnum("ev", ev.kind))))) : null);
  }));
}

function payloadView(payload, hidden = []) {
  if (!payload) return null;
  if (payload.text) return h("p", {}, payload.text);
  if (payload.override_reason) return h("p", {}, labelled(t("hazard.override_reason"), payload.override_reason));
  // Words, not raw fields: the boxes are drawn on the evidence image, so their coordinates are left out.
  const shown = ([k, v]) => v !== null && v !== "" && k !== "box" && k !== "boxes" && !hidden.includes(k);
  const parts = Object.entries(payload).filter(shown)
    .map(([k, v]) => [t(`payload.${k}`) === `payload.${k}` ? k : t(`payload.${k}`), fmtPayloadValue(k, v)])
    .filter(([, text]) => text !== "")
    .map(([label, text]) => labelled(label, text));
  if (Array.isArray(payload.findings)) {
    parts.push(payload.findings.map((f) => `${kindLabel(f.kind)} ${fmtPct(f.confidence)}`).join(", "));
  }
  return parts.length ? h("p.muted.small", {}, parts.join(" · ")) : null;
}

function fmtPayloadValue(key, value) {
  if (key === "confidence" && typeof value === "number") return fmtPct(value);
  if (Array.isArray(value)) return value.every((x) => typeof x === "number")
    ? `[${value.map((x) => Math.round(x)).join(", ")}]` : "";
  if (typeof value === "object") return "";
  return String(value);
}

function history(events) {
  if (!events.length) return h("p.muted", {}, t("common.empty"));
  return h("ol.history", events.map((e) => h("li",
    h("span", {}, `${e.from_state ? tEnum("state", e.from_state) : "∅"} → ${tEnum("state", e.to_state)}`),
    " ", h("span.muted", {}, `${tEnum("action", e.action) || e.action} · ${e.by ?? e.actor_name ?? ""} · ${fmtTime(e.at)}`),
    e.reason ? h("div.small", {}, e.reason) : null)));
}

// ---- transitions -------------------------------------------------------------------------------------

function actions(hz, evidence, ctx, reload) {
  const msg = messageBox();
  const box = h("section.card.actions", { id: "actions" }, h("h2", {}, t("hazard.actions")));
  const me = ctx.me;
  const run = async (button, path, body, { versioned = true } = {}) => {
    button.disabled = true;
    msg.show(t("common.loading"));
    try {
      const out = body instanceof FormData
        ? await api(path, { method: "POST", form: body })
        : await api(path, { method: "POST", json: versioned ? { ...(body || {}), version: hz.version } : body });
      const next = out && (out.hazard || out);
      msg.show(next && next.state ? t("action.done", { state: tEnum("state", next.state) }) : "✓", "ok");
      reload();
    } catch (err) {
      button.disabled = false;
      msg.show(errorText(err), "error");
    }
  };
  const base = `/hazards/${hz.id}`;
  const btn = (action, onclick, cls = "primary") =>
    h(`button.${cls}`, { type: "button", "data-action": action, onclick }, t(`action.${action}`));
  const forms = [];

  if (hz.state === "discovered" && hasRole(me, "inspector", "safety_engineer")) {
    forms.push(btn("register", (e) => run(e.target, `${base}/register`, {})));
  }
  if (hz.state === "registered" && hasRole(me, "safety_engineer")) {
    const who = h("input", { name: "assignee", placeholder: t("hazard.assignee"), id: "assignee" });
    forms.push(h("div.inline", field(t("hazard.assignee"), who), btn("dispatch", (e) => {
      if (!who.value.trim()) { msg.show(`${t("hazard.assignee")}?`, "error"); who.focus(); return; }
      run(e.target, `${base}/dispatch`, { assignee: who.value.trim() });
    })));
  }
  if (hz.state === "dispatched" && hasRole(me, "rectifier", "safety_engineer")) {
    forms.push(btn("start", (e) => run(e.target, `${base}/start`, {})));
  }
  if (hz.state === "in_rectification" && hasRole(me, "rectifier", "safety_engineer")) {
    const file = h("input", { type: "file", name: "file", accept: "image/*", capture: "environment",
      multiple: true, id: "after-photo" });
    forms.push(h("div.inline", field(t("action.after_photo"), file), btn("rectify", (e) => {
      if (!file.files.length) { msg.show(t("action.after_photo"), "error"); return; }
      const data = new FormData();
      for (const f of file.files) data.append("file", f);
      data.append("version", String(hz.version));
      run(e.target, `${base}/rectify`, data);
    })));
  }
  if (hz.state === "rectified" && hasRole(me, "reviewer")) {
    const reason = h("input", { name: "reason", placeholder: t("common.reason") });
    // An automatic check that did not say "resolved": approving needs the reviewer's own look first.
    const verdict = currentVerdict(evidence);
    const doubtful = verdict !== "resolved";
    const approve = btn("approve", (e) => run(e.target, `${base}/review`,
      { approve: true, reason: reason.value.trim() || null }));
    const checked = h("input", { type: "checkbox", id: "checked-on-site",
      onchange: () => { approve.disabled = !checked.checked; } });
    if (doubtful) approve.disabled = true;
    forms.push(h("div.inline",
      doubtful ? h("p.warn", { id: "review-warning" }, t("hazard.review_warning",
        { verdict: verdict ? tEnum("verdict", verdict) : t("hazard.not_checked") })) : null,
      doubtful ? h("label.check", checked, " ", t("hazard.checked_on_site")) : null,
      approve,
    field(t("common.reason"), reason),
    btn("reject", (e) => {
      if (!reason.value.trim()) { msg.show(`${t("common.reason")}?`, "error"); reason.focus(); return; }
      run(e.target, `${base}/review`, { approve: false, reason: reason.value.trim() });
    }, "danger")));
  }
  if (hz.state === "reviewed" && hasRole(me, "reviewer", "safety_engineer")) {
    const v = latestVerification(evidence);
    const needsOverride = v && v.verdict && v.verdict !== "resolved";
    const reason = h("input", { name: "override_reason", placeholder: t("hazard.override_reason"),
      id: "override-reason" });
    forms.push(h("div.inline",
      needsOverride ? h("p.warn", {}, t("hazard.override_needed")) : null,
      needsOverride ? field(t("hazard.override_reason"), reason) : null,
      btn("close", (e) => run(e.target, `${base}/close`,
        { override_reason: needsOverride ? reason.value.trim() || null : null }))));
  }
  if (hz.state === "closed" && hasRole(me, "inspector", "safety_engineer")) {
    const reason = h("input", { name: "reason", placeholder: t("common.reason") });
    forms.push(h("div.inline", field(t("common.reason"), reason), btn("reopen", (e) => {
      if (!reason.value.trim()) { msg.show(`${t("common.reason")}?`, "error"); reason.focus(); return; }
      run(e.target, `${base}/reopen`, { reason: reason.value.trim() });
    })));
  }
  if (!forms.length) forms.push(h("p.muted", {}, t("hazard.no_actions")));
  const note = h("input", { name: "note", placeholder: t("hazard.note_text") });
  forms.push(h("details.note", h("summary", {}, t("hazard.note")), h("div.inline", note,
    btn("note", (e) => note.value.trim() && run(e.target, `${base}/notes`, { text: note.value.trim() },
      { versioned: false }),
      "secondary"))));
  box.append(...forms, msg);
  return box;
}
