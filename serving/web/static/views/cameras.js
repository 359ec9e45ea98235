// Camera grid: latest snapshot (fetched with the bearer header) and health state, refreshed every 10 s;
// each camera's watched regions open in an editor in place of the grid.
import { api, freshBlobUrl } from "../api.js";
import { clear, h } from "../dom.js";
import { cameraCause, fmtTime, labelled, t, tEnum } from "../i18n.js";
import { errorBlock, findingLabel, loadGate } from "./common.js";
import { watchEditor } from "./watch_editor.js";

export function render(root, _params, ctx) {
  const grid = h("div.camera-grid", { id: "camera-grid" });
  const editorHost = h("div", { id: "watch-host" });
  root.append(h("div.page-head", h("h1", {}, t("cameras.title")),
    h("button.link", { type: "button", onclick: () => load() }, t("common.refresh"))), editorHost, grid);
  const urls = new Map(); // camera id → current blob URL (revoked when replaced)
  const gate = loadGate();
  let editor = null; // the open watched-regions editor (the grid is hidden and not refreshed meanwhile)

  function openEditor(cam) {
    closeEditor(false);
    editor = watchEditor(cam, ctx.me, () => closeEditor(true));
    clear(editorHost).append(editor.el);
    grid.hidden = true;
    editor.el.scrollIntoView({ block: "start" });
  }

  function closeEditor(reload) {
    if (!editor) return;
    editor.dispose();
    editor = null;
    clear(editorHost);
    grid.hidden = false;
    if (reload) load();
  }

  async function load() {
    const current = gate.begin();
    try {
      const cams = await api("/cameras");
      if (!current()) return;
      clear(grid);
      if (!cams.length) grid.append(h("p.muted", {}, t("common.empty")));
      for (const cam of cams) grid.append(tile(cam));
    } catch (err) {
      if (current()) clear(grid).append(errorBlock(err, load));
    }
  }

  function tile(cam) {
    const img = h("img.photo", { alt: cam.name || cam.id });
    const pic = h("div.snapshot", h("span.muted", {}, t("cameras.no_snapshot")));
    if (urls.has(cam.id)) { // keep showing the previous frame until the fresh one arrives (no flicker)
      img.src = urls.get(cam.id);
      clear(pic).append(img);
    }
    if (cam.snapshot_key || cam.last_frame_at) {
      freshBlobUrl(`/cameras/${encodeURIComponent(cam.id)}/snapshot`).then((url) => {
        if (!gate.live()) { URL.revokeObjectURL(url); return; }
        const old = urls.get(cam.id);
        urls.set(cam.id, url);
        img.src = url;
        clear(pic).append(img);
        if (old) setTimeout(() => URL.revokeObjectURL(old), 1000); // after the new frame has painted
      }).catch(() => {});
    }
    const findings = cam.findings_last || [];
    return h("article.camera.card", { "data-camera": cam.id, "data-state": cam.state },
      pic,
      h("div.row", h("strong", {}, cam.name || cam.id),
        h(`span.badge.cam-${cam.state}`, {}, tEnum("cam", cam.state))),
      h("div.muted.small", {}, `${labelled(t("common.zone"), cam.zone ?? "—")} · ${labelled(t("cameras.last_frame"), fmtTime(cam.last_frame_at))}`),
      // The cause worded as on the alerts page, in either language; the stream library's detail (URL,
      // errno) only in the tooltip, as an attribute (never markup).
      cam.last_error ? h("div.small.warn.cam-error", { title: cam.last_error },
        cameraCause(cam.last_error) ?? t("camcause.other")) : null,
      findings.length ? h("div.small", {}, labelled(t("cameras.findings"), findings
        .map((f) => findingLabel(f.kind ?? f)).join(", "))) : null,
      h("div.toolbar", h("button.secondary", { type: "button", "data-action": "watch",
        onclick: () => openEditor(cam) }, t("watch.button"))));
  }

  load();
  const timer = setInterval(() => { if (!document.hidden && !editor) load(); }, 10000);
  return () => {
    gate.leave();
    closeEditor(false);
    clearInterval(timer);
    for (const url of urls.values()) URL.revokeObjectURL(url);
  };
}
