// Inspector's field upload (phone first): camera capture, browser GPS, zone; retries a flaky connection
// with the same Idempotency-Key, then shows findings and the hazards they created.
import { api, newIdempotencyKey, objectUrl, uploadWithRetry } from "../api.js";
import { asyncImg, clear, field, h, messageBox } from "../dom.js";
import { fmtPct, labelled, t, tEnum } from "../i18n.js";
import { errorText, findingLabel, levelBadge } from "./common.js";

const ZONE_KEY = "hazardeye.zone"; // inspectors walk one zone for a while: remember it

export function render(root) {
  let alive = true;
  let gps = null;
  let idempotencyKey = null; // one key per chosen photo, reused by every retry of that photo
  let previewUrl = null;
  const msg = messageBox();
  const result = h("div", { id: "upload-result" });
  const gpsLine = h("p.muted.small", { id: "gps" }, t("upload.gps_wait"));
  const preview = h("img.preview", { alt: "", hidden: true });
  const fileIn = h("input", { type: "file", name: "file", accept: "image/*", capture: "environment",
    required: true, id: "photo" });
  const zoneIn = h("input", { name: "zone", required: true, id: "zone", list: "zones",
    value: localStorage.getItem(ZONE_KEY) || "", autocomplete: "off" });
  const zones = h("datalist", { id: "zones" });
  const submit = h("button.primary.big", { type: "submit" }, t("upload.submit"));

  fileIn.addEventListener("change", () => {
    idempotencyKey = newIdempotencyKey();
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    const file = fileIn.files[0];
    previewUrl = file ? URL.createObjectURL(file) : null;
    preview.hidden = !previewUrl;
    if (previewUrl) preview.src = previewUrl;
    clear(result);
    msg.hide();
  });

  const form = h("form.card.stack.upload", {
    id: "upload-form",
    onsubmit: async (e) => {
      e.preventDefault();
      const file = fileIn.files[0];
      if (!file) return;
      localStorage.setItem(ZONE_KEY, zoneIn.value.trim());
      const data = new FormData(form);
      data.set("zone", zoneIn.value.trim());
      for (const [k, v] of [...data.entries()]) if (v === "") data.delete(k);
      if (gps) { data.set("lat", String(gps.lat)); data.set("lon", String(gps.lon)); }
      idempotencyKey = idempotencyKey || newIdempotencyKey();
      submit.disabled = true;
      clear(result);
      try {
        const { status, body } = await uploadWithRetry("/photos", data, {
          idempotencyKey,
          onAttempt: (n, wait) => msg.show(wait === null ? t("upload.sending", { n })
            : t("upload.retrying", { s: wait, n }), wait === null ? "info" : "warn"),
        });
        if (status === 200) msg.show(t("upload.replayed"), "info"); else msg.hide();
        const final = await untilDone(body, () => alive, () => msg.show(t("upload.queued")));
        if (alive) showResult(result, final);
        if (final.status === "queued") msg.show(t("upload.queued"));
      } catch (err) {
        msg.show(t("upload.failed", { msg: errorText(err) }), "error");
      } finally {
        submit.disabled = false;
      }
    },
  },
  h("h1", {}, t("upload.title")),
  field(t("upload.take"), fileIn), preview,
  field(t("common.zone"), zoneIn), zones,
  field(t("common.area"), h("input", { name: "area" })),
  field(t("common.equipment"), h("input", { name: "equipment_id" })),
  field(t("common.description"), h("textarea", { name: "description", rows: 2 })),
  h("div.field", h("span", {}, t("upload.gps")), gpsLine),
  submit, msg);
  root.append(form, result);

  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition((pos) => {
      gps = { lat: pos.coords.latitude, lon: pos.coords.longitude };
      gpsLine.textContent = t("upload.gps_ok", { lat: gps.lat.toFixed(5), lon: gps.lon.toFixed(5),
        acc: Math.round(pos.coords.accuracy) });
    }, () => { gpsLine.textContent = t("upload.gps_none"); },
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  } else {
    gpsLine.textContent = t("upload.gps_none");
  }
  api("/zones").then((list) => {
    for (const z of list || []) zones.append(h("option", { value: z.id ?? z.zone ?? z.name }, z.name ?? ""));
  }).catch(() => {});

  return () => { alive = false; if (previewUrl) URL.revokeObjectURL(previewUrl); };
}

/** Celery profile answers 202 "queued": poll the status URL until done/failed. */
async function untilDone(body, isAlive, onWait) {
  let current = body;
  for (let i = 0; current.status === "queued" && i < 120 && isAlive(); i += 1) {
    onWait();
    await new Promise((r) => setTimeout(r, 1500));
    current = await api(`/photos/${current.photo_id}`);
  }
  return current;
}

function showResult(box, res) {
  const findings = res.findings || [];
  const hazards = res.hazards || [];
  clear(box).append(h("section.card", { "data-photo-id": res.photo_id },
    h("h2", {}, t("upload.result")),
    res.error ? h("div.msg.error", {}, res.error) : null,
    h("div.photo-wrap", asyncImg(() => objectUrl(res.annotated_key || res.original_key), "")),
    h("p.muted.small", {}, [t("upload.detections", { n: (res.detections || []).length }),
      res.models?.length ? ` · ${labelled(t("upload.models"), res.models.join(", "))}` : "",
      res.gps ? ` · GPS ${res.gps.lat.toFixed(5)}, ${res.gps.lon.toFixed(5)}` : ""].join("")),
    h("h3", {}, t("upload.findings")),
    findings.length
      ? h("ul.findings", { id: "findings" }, findings.map((f) => h("li", { "data-kind": f.kind },
        `${findingLabel(f.kind)} · ${fmtPct(f.confidence)}`)))
      : h("p", { id: "findings" }, t("upload.no_findings")),
    hazards.length ? h("h3", {}, t("upload.hazards")) : null,
    hazards.length ? h("ul.created-hazards", { id: "created-hazards" }, hazards.map((hz) => h("li",
      h("a", { href: `#/hazards/${hz.hazard_id}` }, `#${hz.hazard_id}`), " ",
      tEnum("outcome", hz.outcome), hz.level ? levelBadge(hz.level) : null))) : null,
    h("button", { type: "button", onclick: () => { window.scrollTo(0, 0); location.reload(); } },
      t("upload.again"))));
}
