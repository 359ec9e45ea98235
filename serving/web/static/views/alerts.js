// Live alerts: fetch() streaming of /alerts/stream (EventSource cannot send the bearer header), with a
// poll of GET /alerts every 5 s as the fallback and the source of truth for acknowledgements.
import { api, getKey } from "../api.js";
import { clear, h } from "../dom.js";
import { alertMessageText, cameraCause, fmtTime, labelled, lang, t, tEnum } from "../i18n.js";
import { errorBlock, errorText } from "./common.js";

// The server's message is English detail; the line a person reads is worded here from the alert's fields.
const SENSOR_UNIT = / at [-+\d.e]+ (.+)$/; // "tier 1 → 2 at 31.5 ppm": the unit is only in the message

export function alertText(a) {
  const camera = a.camera_id ?? /^camera (\S+):/.exec(a.message ?? "")?.[1] ?? ""; // stream items: message only
  if (a.kind === "camera.offline") {
    const detail = /\((.*)\)$/.exec(a.message ?? "")?.[1] ?? a.message;
    return t("alertmsg.camera.offline", { camera, cause: cameraCause(detail) ?? t("camcause.other") });
  }
  if (["camera.back", "camera.black", "camera.frozen"].includes(a.kind)) return t(`alertmsg.${a.kind}`, { camera });
  if (a.kind === "sensor.tier" && a.sensor_id) {
    const unit = SENSOR_UNIT.exec(a.message ?? "")?.[1] ?? "";
    const value = a.value === null || a.value === undefined ? "—" : `${a.value} ${unit}`.trim();
    return t("alertmsg.sensor.tier", { sensor: a.sensor_id, from: a.previous_tier ?? 0, to: a.tier, value });
  }
  if (a.kind === "sensor.stale" && a.sensor_id) return t("alertmsg.sensor.stale", { sensor: a.sensor_id });
  if (a.message) return alertMessageText(a.message);
  return [a.sensor_id, a.value].filter((x) => x != null).join(" · ");
}

export function render(root) {
  const list = h("div.alert-list", { id: "alert-list" });
  const mode = h("span.badge.mode", { id: "alert-mode" }, t("alerts.polling"));
  const unack = h("input", { type: "checkbox", name: "unack", checked: true });
  unack.addEventListener("change", () => poll());
  root.append(h("div.page-head", h("h1", {}, t("alerts.title")), mode),
    h("label.check", {}, unack, t("alerts.unack_only")), list);
  const controller = new AbortController();
  let alive = true;
  let latest = [];

  function draw() {
    clear(list);
    const shown = unack.checked ? latest.filter((a) => !isAcked(a)) : latest;
    if (!shown.length) list.append(h("p.muted", {}, t("common.empty")));
    for (const a of shown) list.append(item(a));
  }

  function item(a) {
    const tier = a.tier ?? a.level;
    return h(`article.card.alert.tier-${tier ?? 0}`, { "data-alert": a.id },
      h("div.row", h("strong", {}, tEnum("alertkind", a.kind)),
        tier !== undefined && tier !== null ? h("span.badge", {}, t("alerts.tier", { n: tier })) : null,
        h("span.muted.small", {}, fmtTime(a.at ?? a.created_at))),
      h("div.alert-text", {}, alertText(a)),
      a.message && lang() !== "en" ? h("details.muted.small", h("summary", {}, t("alerts.details")), a.message) : null,
      a.zone ? h("div.muted.small", {}, labelled(t("common.zone"), a.zone)) : null,
      a.hazard_id ? h("a", { href: `#/hazards/${a.hazard_id}` }, `#${a.hazard_id}`) : null,
      isAcked(a) ? h("span.muted.small", {}, t("alerts.acked"))
        : h("button", { type: "button", "data-action": "ack", onclick: async (e) => {
          e.target.disabled = true;
          try { await api(`/alerts/${a.id}/ack`, { method: "POST", json: {} }); await poll(); }
          catch (err) { e.target.disabled = false; list.prepend(h("div.msg.error", {}, errorText(err))); }
        } }, t("alerts.ack")));
  }

  async function poll() {
    try {
      const q = new URLSearchParams({ limit: "100" });
      const body = await api(`/alerts?${q}`);
      if (!alive) return;
      latest = Array.isArray(body) ? body : body.items || [];
      draw();
    } catch (err) {
      if (alive) clear(list).append(errorBlock(err, poll));
    }
  }

  async function stream() {
    try {
      const response = await fetch("/api/v1/alerts/stream", {
        headers: { Authorization: `Bearer ${getKey()}`, Accept: "text/event-stream" },
        signal: controller.signal,
      });
      if (!response.ok || !response.body) return;
      mode.textContent = t("alerts.live");
      mode.classList.add("live");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim())
            .join("\n");
          if (!data) continue;
          try {
            // The stream carries bus alerts (alert_id, level, created_at): show at once, then re-read the list.
            const raw = JSON.parse(data);
            const alert = { ...raw, id: raw.id ?? raw.alert_id, at: raw.at ?? raw.created_at,
              tier: raw.tier ?? raw.level, acknowledged: false };
            latest = [alert, ...latest.filter((a) => a.id !== alert.id)];
            draw();
            poll();
          } catch { /* keep-alive or non-JSON line */ }
        }
      }
    } catch { /* aborted or network: polling carries on */ }
    if (alive) {
      mode.textContent = t("alerts.polling");
      mode.classList.remove("live");
    }
  }

  poll();
  stream();
  const timer = setInterval(() => { if (!document.hidden) poll(); }, 5000);
  return () => { alive = false; controller.abort(); clearInterval(timer); };
}

function isAcked(a) {
  return Boolean(a.acknowledged);
}
