// The watched-regions editor of one camera: its latest snapshot with the regions drawn over it in frame
// pixels (an SVG whose viewBox is the image's natural size, so a tap maps to frame pixels at any screen
// width), tap to place the corners of a new polygon, name it, pick its kind, close it; save (PUT) or go
// back to the camera file's regions (DELETE). Region names are user input: they only become text nodes.
import { api, freshBlobUrl } from "../api.js";
import { clear, field, h, messageBox, svg } from "../dom.js";
import { fmtTime, t, tEnum } from "../i18n.js";
import { errorText, hasRole, select } from "./common.js";

export const KINDS = ["flange", "valve", "pump_seal", "pipe_run", "floor"];

const pointsAttr = (points) => points.map(([x, y]) => `${x},${y}`).join(" ");

// The overlay draws in frame pixels but is seen scaled to the screen (a 1280-wide frame on a phone is
// about 0.28 CSS px per frame pixel): a region's name is sized and spaced in CSS px, so it reads the
// same on any frame, and sits outside the polygon (above it, else below) so it never hides what is watched.
const LABEL_PX = 13; // the name's font size on screen
const LABEL_PAD_X = 4; // CSS px around the name, inside its dark plate
const LABEL_PAD_Y = 2;
const LABEL_GAP = 3; // CSS px between the plate and the polygon's top (or bottom) edge

/** The editor for ``cam``; ``onClose`` is called by its back button. Returns {el, dispose}. */
export function watchEditor(cam, me, onClose) {
  const base = `/cameras/${encodeURIComponent(cam.id)}`;
  // saved: the regions as the server last returned them (JSON), to say when the list differs.
  const state = { regions: [], draft: [], size: null, snapshotUrl: null, left: false, drawnWidth: 0, saved: "[]" };
  const msg = messageBox();
  const overlay = svg("svg.watch-overlay", { id: "watch-overlay", role: "img", "aria-label": t("watch.help"),
    onclick: addPoint });
  const stage = h("div.watch-stage", { id: "watch-stage" }, h("span.muted", {}, t("common.loading")));
  const name = h("input", { name: "region-name", id: "region-name", maxlength: 64, autocomplete: "off" });
  const kind = select("region-kind", KINDS.map((k) => [k, tEnum("watchkind", k)]), "flange");
  kind.id = "region-kind";
  const undoBtn = h("button", { type: "button", "data-action": "undo-point", onclick: undo },
    t("watch.undo"));
  const closeBtn = h("button.secondary", { type: "button", "data-action": "close-polygon",
    onclick: () => closePolygon() }, t("watch.close_polygon"));
  const draftInfo = h("span.muted.small", { id: "draft-count" });
  const list = h("ul.watch-list", { id: "watch-regions" });
  const source = h("p.muted.small", { id: "watch-source" });
  const unsaved = h("p.small.warn", { id: "watch-unsaved" }, t("watch.unsaved"));
  const saveBtn = h("button.primary", { type: "button", "data-action": "save-watch", onclick: save },
    t("watch.save"));
  const fileBtn = h("button", { type: "button", "data-action": "use-file", onclick: useFile },
    t("watch.use_file"));

  const el = h("section.card.watch-editor", { id: "watch-editor", "data-camera": cam.id },
    h("div.page-head", h("h2", {}, t("watch.title", { camera: cam.name || cam.id })),
      h("button.link", { type: "button", "data-action": "close-editor", onclick: onClose }, t("watch.back"))),
    h("p.small.muted", {}, t("watch.help")),
    stage,
    h("div.row.watch-draft", undoBtn, closeBtn, draftInfo),
    h("div.grid2", field(t("watch.name"), name), field(t("watch.kind"), kind)),
    h("h3", {}, t("watch.regions")),
    list,
    source,
    unsaved,
    hasRole(me, "safety_engineer") ? null : h("p.small.warn", {}, t("watch.engineer_only")),
    h("div.toolbar", saveBtn, fileBtn),
    msg);

  function addPoint(event) {
    if (!state.size) return;
    const box = overlay.getBoundingClientRect();
    if (!box.width || !box.height) return;
    const { w, h: ht } = state.size;
    const x = Math.min(w, Math.max(0, Math.round(((event.clientX - box.left) / box.width) * w)));
    const y = Math.min(ht, Math.max(0, Math.round(((event.clientY - box.top) / box.height) * ht)));
    state.draft.push([x, y]);
    redraw();
  }

  function undo() {
    state.draft.pop();
    redraw();
  }

  /** Turn the draft into a region named and kinded from the inputs; false (and why) when it cannot. */
  function closePolygon() {
    if (state.draft.length < 3) { msg.show(t("watch.need_points"), "error"); return false; }
    const label = name.value.trim();
    if (!label) { msg.show(t("watch.need_name"), "error"); name.focus(); return false; }
    if (state.regions.some((r) => r.name === label)) {
      msg.show(t("watch.duplicate", { name: label }), "error");
      return false;
    }
    state.regions.push({ name: label, kind: kind.value, points: state.draft });
    state.draft = [];
    name.value = "";
    msg.hide();
    redraw();
    return true;
  }

  function remove(index) {
    state.regions.splice(index, 1);
    redraw();
  }

  /** Frame pixels per CSS pixel across and down the shown overlay (1 while it is not laid out yet). */
  function frameScale() {
    const box = overlay.getBoundingClientRect();
    state.drawnWidth = box.width;
    if (!state.size || !box.width || !box.height) return { x: 1, y: 1 };
    return { x: state.size.w / box.width, y: state.size.h / box.height };
  }

  /** The name of region ``i`` on a dark plate just outside the polygon, kept inside the frame. */
  function drawLabel(r, i, s) {
    const { w, h: ht } = state.size ?? { w: 0, h: 0 };
    const xs = r.points.map((p) => p[0]);
    const ys = r.points.map((p) => p[1]);
    const font = LABEL_PX * s.y;
    const padX = LABEL_PAD_X * s.x;
    const gap = LABEL_GAP * s.y;
    const plateH = font * 1.3 + 2 * LABEL_PAD_Y * s.y;
    const plate = svg("rect.region-label-bg", { rx: 3 * s.x, ry: 3 * s.y, fill: "rgba(16, 24, 32, .82)" });
    const text = svg("text.region-label", { "font-size": font, "dominant-baseline": "central" }, r.name);
    overlay.append(svg("g.region-tag", { "data-region": i, "pointer-events": "none" }, plate, text));
    let textW = text.getComputedTextLength(); // 0 while the overlay is not rendered: estimate then
    if (textW && w && textW + 2 * padX > w) { // wider than the frame: shortened (the full name is listed below)
      const chars = Array.from(r.name);
      for (let n = chars.length - 1; n > 0 && textW + 2 * padX > w; n -= 1) {
        text.textContent = `${chars.slice(0, n).join("")}…`;
        textW = text.getComputedTextLength();
      }
    }
    if (!textW) textW = font * 0.62 * Array.from(r.name).length;
    const plateW = textW + 2 * padX;
    let top = Math.min(...ys) - gap - plateH; // above the polygon
    if (top < 0) top = Math.max(...ys) + gap; // no room above: below it
    if (top + plateH > ht) top = Math.min(...ys) + gap; // the region spans the frame's height: inside its top
    top = Math.max(0, Math.min(top, ht - plateH));
    const left = Math.max(0, Math.min(Math.min(...xs), w - plateW));
    for (const [k, v] of Object.entries({ x: left, y: top, width: plateW, height: plateH })) {
      plate.setAttribute(k, v);
    }
    text.setAttribute("x", left + padX);
    text.setAttribute("y", top + plateH / 2);
  }

  function redraw() {
    clear(overlay);
    const w = state.size ? state.size.w : 0;
    const s = frameScale();
    state.regions.forEach((r, i) => { // outlines in screen px: a dark halo under the kind's colour
      overlay.append(
        svg("polygon.region-halo", { points: pointsAttr(r.points) }), // widths in style.css
        svg(`polygon.region.kind-${KINDS.includes(r.kind) ? r.kind : "flange"}`,
          { points: pointsAttr(r.points), "data-region": i }));
    });
    state.regions.forEach((r, i) => drawLabel(r, i, s)); // over every outline
    if (state.draft.length) {
      overlay.append(svg(state.draft.length >= 3 ? "polygon.draft" : "polyline.draft",
        { points: pointsAttr(state.draft) }));
      for (const [x, y] of state.draft) {
        overlay.append(svg("circle.draft-point", { cx: x, cy: y, r: Math.max(3, w / 90) }));
      }
    }
    undoBtn.disabled = !state.draft.length;
    closeBtn.disabled = state.draft.length < 3;
    draftInfo.textContent = state.draft.length ? t("watch.points", { n: state.draft.length }) : "";
    unsaved.hidden = JSON.stringify(state.regions) === state.saved;
    clear(list);
    if (!state.regions.length) list.append(h("li.muted", {}, t("watch.none")));
    state.regions.forEach((r, i) => {
      list.append(h("li", { "data-region": i },
        h(`span.sw.kind-${KINDS.includes(r.kind) ? r.kind : "flange"}`),
        h("strong.region-name", {}, r.name),
        h("span.muted.small", {},
          `${tEnum("watchkind", r.kind)} · ${t("watch.points", { n: r.points.length })}`),
        h("button.link", { type: "button", "data-action": "delete-region", onclick: () => remove(i) },
          t("watch.delete"))));
    });
  }

  function apply(watch) {
    state.regions = watch.regions.map((r) => ({
      name: r.name, kind: r.kind, points: r.points.map(([x, y]) => [x, y]) }));
    state.saved = JSON.stringify(state.regions);
    if (!state.size && watch.frame) state.size = { w: watch.frame.width, h: watch.frame.height };
    if (watch.source === "api") {
      source.textContent = t("watch.source_api", { by: watch.updated_by ?? "—", at: fmtTime(watch.updated_at) });
    } else {  // the camera file's regions, or none at all: say which
      source.textContent = t(watch.regions.length ? "watch.source_file" : "watch.source_none");
    }
    source.dataset.source = watch.source;
    redraw();
  }

  function busy(on) {
    saveBtn.disabled = on;
    fileBtn.disabled = on;
  }

  async function save() {
    if (state.draft.length && !closePolygon()) return;
    busy(true);
    try {
      const watch = await api(`${base}/watch`, { method: "PUT", json: { regions: state.regions } });
      if (state.left) return;
      apply(watch);
      msg.show(t("watch.saved"), "ok");
    } catch (err) {
      msg.show(errorText(err), "error");
    } finally {
      busy(false);
    }
  }

  async function useFile() {
    busy(true);
    try {
      await api(`${base}/watch`, { method: "DELETE" });
      const watch = await api(`${base}/watch`);
      if (state.left) return;
      state.draft = [];
      apply(watch);
      msg.show(t("watch.reverted"), "ok");
    } catch (err) {
      msg.show(errorText(err), "error");
    } finally {
      busy(false);
    }
  }

  function showStage(picture) {
    const { w, h: ht } = state.size;
    overlay.setAttribute("viewBox", `0 0 ${w} ${ht}`);
    overlay.setAttribute("preserveAspectRatio", "none");
    clear(stage).append(picture, overlay);
    redraw();
  }

  async function load() {
    try {
      apply(await api(`${base}/watch`));
    } catch (err) {
      msg.show(errorText(err), "error");
    }
    try {
      const url = await freshBlobUrl(`${base}/snapshot`);
      if (state.left) { URL.revokeObjectURL(url); return; }
      state.snapshotUrl = url;
      const img = h("img.watch-img", { alt: cam.name || cam.id });
      img.addEventListener("load", () => {
        state.size = { w: img.naturalWidth, h: img.naturalHeight }; // the frame's own pixels
        showStage(img);
      }, { once: true });
      img.src = url;
    } catch {
      if (state.left) return;
      if (state.size) { // no picture to show, but the frame's size is known: draw on a blank of its shape
        showStage(h("div.watch-blank", { style: `aspect-ratio: ${state.size.w} / ${state.size.h}` },
          t("watch.no_snapshot")));
      } else {
        clear(stage).append(h("p.muted", {}, t("watch.no_frame")));
      }
    }
  }

  // The labels' sizes depend on the shown width: drawn again when it changes (rotation, window size).
  const resized = new ResizeObserver(() => {
    if (overlay.isConnected && overlay.getBoundingClientRect().width !== state.drawnWidth) redraw();
  });
  resized.observe(overlay);
  redraw();
  load();
  return {
    el,
    dispose() {
      state.left = true;
      resized.disconnect();
      if (state.snapshotUrl) URL.revokeObjectURL(state.snapshotUrl);
    },
  };
}
