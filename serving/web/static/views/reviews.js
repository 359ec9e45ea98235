// Detection review queue (safety engineer): confirm, relabel or drop each detected box; the reviewed
// record feeds the training export. Boxes are drawn as an SVG overlay in the photo's pixel space.
import { api, objectUrl } from "../api.js";
import { clear, field, h, messageBox } from "../dom.js";
import { fmtPct, fmtTime, labelled, t } from "../i18n.js";
import { errorBlock, errorText, loadGate } from "./common.js";

const NS = "http://www.w3.org/2000/svg";
const BASE_LABELS = ["head", "helmet", "person"];

export function render(root) {
  const list = h("div", { id: "review-list" });
  root.append(h("div.page-head", h("h1", {}, t("reviews.title"))), h("p.muted.small", {}, t("reviews.help")), list);
  const gate = loadGate();

  async function load() {
    clear(list).append(h("p.muted", {}, t("common.loading")));
    const current = gate.begin();
    try {
      const items = await api("/reviews?limit=20");
      if (!current()) return;
      clear(list);
      if (!items.length) list.append(h("p.muted", {}, t("common.empty")));
      for (const item of items) list.append(reviewCard(item, load));
    } catch (err) {
      if (current()) clear(list).append(errorBlock(err, load));
    }
  }
  load();
  return () => { gate.leave(); };
}

function reviewCard(item, reload) {
  const labels = [...new Set([...BASE_LABELS, ...item.detections.map((d) => d.label)])];
  const rows = item.detections.map((d) => ({ ...d, keep: true }));
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${item.width} ${item.height}`);
  svg.setAttribute("class", "boxes");
  const img = h("img.photo", { alt: item.photo_id });
  objectUrl(item.original_key).then((url) => { img.src = url; }).catch(() => img.classList.add("broken"));

  function drawBoxes() {
    while (svg.firstChild) svg.firstChild.remove();
    rows.forEach((r, i) => {
      if (!r.keep) return;
      const [x1, y1, x2, y2] = r.box;
      const rect = document.createElementNS(NS, "rect");
      for (const [k, v] of Object.entries({ x: x1, y: y1, width: x2 - x1, height: y2 - y1 })) rect.setAttribute(k, v);
      rect.setAttribute("class", `box lb-${r.label}`);
      const text = document.createElementNS(NS, "text");
      text.setAttribute("x", x1 + 2);
      text.setAttribute("y", Math.max(y1 - 3, 10));
      text.setAttribute("class", `lb-${r.label}`);
      text.textContent = `${i + 1} ${r.label}`;
      svg.append(rect, text);
    });
  }

  const boxList = h("ol.review-boxes", rows.map((r, i) => {
    const keep = h("input", { type: "checkbox", checked: true });
    keep.addEventListener("change", () => { r.keep = keep.checked; drawBoxes(); });
    const sel = h("select", {}, labels.map((l) => h("option", { value: l, selected: l === r.label }, l)));
    sel.addEventListener("change", () => { r.label = sel.value; drawBoxes(); });
    return h("li", h("label.check", {}, keep, `${i + 1}`), sel, h("span.muted.small", {}, fmtPct(r.confidence)));
  }));
  const note = h("input", { name: "note" });
  const msg = messageBox();
  drawBoxes();
  return h("article.card.review", { "data-photo-id": item.photo_id },
    h("div.row", h("strong", {}, labelled(t("common.zone"), item.zone)),
      h("span.muted.small", {}, `${fmtTime(item.received_at)} · ${item.models.join(", ")}`)),
    h("div.overlay", img, svg),
    boxList,
    field(t("hazard.note_text"), note),
    h("button.primary", { type: "button", "data-action": "save-review", onclick: async (e) => {
      e.target.disabled = true;
      try {
        await api(`/reviews/${item.photo_id}`, { method: "POST", json: {
          detections: rows.filter((r) => r.keep).map((r) => ({ label: r.label, box: r.box })),
          note: note.value.trim() || null } });
        reload();
      } catch (err) {
        e.target.disabled = false;
        msg.show(errorText(err), "error");
      }
    } }, t("reviews.save")), msg);
}
