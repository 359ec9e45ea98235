// Camera grid: latest snapshot (fetched with the bearer header) and health state, refreshed every 10 s.
import { api, freshBlobUrl } from "../api.js";
import { clear, h } from "../dom.js";
import { cameraCause, fmtTime, lang, t, tEnum } from "../i18n.js";
import { errorBlock, findingLabel, loadGate } from "./common.js";

export function render(root) {
  const grid = h("div.camera-grid", { id: "camera-grid" });
  root.append(h("div.page-head", h("h1", {}, t("cameras.title")),
    h("button.link", { type: "button", onclick: () => load() }, t("common.refresh"))), grid);
  const urls = new Map(); // camera id → current blob URL (revoked when replaced)
  const gate = loadGate();

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
      h("div.muted.small", {}, `${t("common.zone")}: ${cam.zone ?? "—"} · ${t("cameras.last_frame")}: ${fmtTime(cam.last_frame_at)}`),
      cam.last_error ? h("div.small.warn.cam-error", { title: cam.last_error },
        lang() === "en" ? cam.last_error : cameraCause(cam.last_error) ?? cam.last_error) : null,
      findings.length ? h("div.small", {}, `${t("cameras.findings")}: ${findings
        .map((f) => findingLabel(f.kind ?? f)).join(", ")}`) : null);
  }

  load();
  const timer = setInterval(() => { if (!document.hidden) load(); }, 10000);
  return () => {
    gate.leave();
    clearInterval(timer);
    for (const url of urls.values()) URL.revokeObjectURL(url);
  };
}
