// Manual hazard registration by an inspector (POST /hazards, multipart, optional photo).
import { api } from "../api.js";
import { field, h, messageBox } from "../dom.js";
import { t, tEnum } from "../i18n.js";
import { errorText, select } from "./common.js";

const MANUAL_KINDS = ["manual.housekeeping", "manual.fire", "manual.electrical", "manual.ppe", "manual.leak",
  "manual.height", "manual.other"];

export function manualForm(onCreated) {
  const msg = messageBox();
  const num = (name) => h("input", { type: "number", name, min: 1, max: 5, value: 3, required: true });
  const form = h("form.card.stack", {
    id: "manual-form",
    onsubmit: async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      if (!data.get("file") || !data.get("file").size) data.delete("file");
      for (const [k, v] of [...data.entries()]) if (v === "") data.delete(k);
      try {
        onCreated(await api("/hazards", { method: "POST", form: data }));
      } catch (err) {
        msg.show(errorText(err), "error");
      }
    },
  },
  h("h2", {}, t("board.report")),
  field(t("common.kind"), select("kind", MANUAL_KINDS.map((k) => [k, tEnum("finding", k)]), "manual.housekeeping")),
  field(t("common.zone"), h("input", { name: "zone", required: true })),
  field(t("common.area"), h("input", { name: "area" })),
  field(t("common.equipment"), h("input", { name: "equipment_id" })),
  field(t("common.description"), h("textarea", { name: "description", required: true, rows: 2 })),
  h("div.grid2", field(t("manual.likelihood"), num("likelihood")), field(t("manual.severity"), num("severity"))),
  field(t("upload.photo"), h("input", { type: "file", name: "file", accept: "image/*",
    capture: "environment" })),
  h("button.primary", { type: "submit" }, t("common.save")), msg);
  return form;
}
