// The shell: sign-in with an API key, navigation (hash routes), language switch, and the view lifecycle.
import { api, clearKey, getKey, setKey } from "./api.js";
import { clear, field, h, messageBox } from "./dom.js";
import { lang, setLang, t, tEnum } from "./i18n.js";
import * as alerts from "./views/alerts.js";
import * as board from "./views/board.js";
import * as cameras from "./views/cameras.js";
import * as detail from "./views/hazard_detail.js";
import * as kpis from "./views/kpis.js";
import * as models from "./views/models.js";
import * as permits from "./views/permits.js";
import * as reviews from "./views/reviews.js";
import * as upload from "./views/upload.js";

const ROUTES = [
  { re: /^\/hazards\/(\d+)$/, view: detail, nav: "hazards" },
  { re: /^\/hazards$/, view: board, nav: "hazards" },
  { re: /^\/upload$/, view: upload, nav: "upload" },
  { re: /^\/cameras$/, view: cameras, nav: "cameras" },
  { re: /^\/permits$/, view: permits, nav: "permits" },
  { re: /^\/alerts$/, view: alerts, nav: "alerts" },
  { re: /^\/kpis$/, view: kpis, nav: "kpis" },
  { re: /^\/models$/, view: models, nav: "models" },
  { re: /^\/reviews$/, view: reviews, nav: "reviews" },
];
const NAV = ["hazards", "upload", "cameras", "permits", "alerts", "kpis", "models", "reviews"];
// Screens only some roles can use are left out of the others' navigation.
const NAV_ROLES = { reviews: ["safety_engineer", "admin"] };
const NAV_PATH = { hazards: "#/hazards", upload: "#/upload", cameras: "#/cameras", permits: "#/permits",
  alerts: "#/alerts", kpis: "#/kpis", models: "#/models", reviews: "#/reviews" };

const state = { me: null, cleanup: null, alertCount: 0 };
const viewEl = document.getElementById("view");

function renderChrome(active) {
  const nav = clear(document.getElementById("nav"));
  for (const name of NAV) {
    if (NAV_ROLES[name] && !(state.me && NAV_ROLES[name].includes(state.me.role))) continue;
    nav.append(h("a", { href: NAV_PATH[name], class: name === active ? "active" : "",
      "data-nav": name }, t(`nav.${name}`)));
  }
  nav.hidden = !state.me;
  drawAlertBadge();
  document.getElementById("brand").textContent = t("app.title");
  document.getElementById("who").textContent = state.me
    ? `${state.me.name} · ${tEnum("role", state.me.role)}` : "";
  const langBtn = document.getElementById("lang");
  langBtn.textContent = t("lang.switch");
  const logout = document.getElementById("logout");
  logout.textContent = t("logout");
  logout.hidden = !state.me;
  document.title = t("app.title");
}

function renderLogin(error) {
  renderChrome(null);
  const input = h("input", { type: "password", name: "apikey", autocomplete: "current-password",
    required: true, id: "apikey" });
  const msg = messageBox();
  if (error) msg.show(error, "error");
  const form = h("form.card.login", {
    onsubmit: async (event) => {
      event.preventDefault();
      setKey(input.value);
      await signIn();
    },
  },
  h("h1", {}, t("login.title")),
  h("p.muted", {}, t("login.help")),
  field(t("login.key"), input),
  h("button.primary", { type: "submit" }, t("login.submit")),
  msg);
  clear(viewEl).append(form);
  input.focus();
}

async function signIn() {
  if (!getKey()) return renderLogin();
  try {
    state.me = await api("/me");
  } catch (err) {
    state.me = null;
    if (err.status === 401) clearKey();
    return renderLogin(err.status === 401 ? t("login.bad") : err.message);
  }
  route();
}

function route() {
  if (!state.me) return renderLogin();
  const path = (location.hash || "#/hazards").slice(1);
  const match = ROUTES.map((r) => ({ r, m: path.match(r.re) })).find((x) => x.m);
  if (!match) {
    location.hash = "#/hazards";
    return;
  }
  if (typeof state.cleanup === "function") state.cleanup();
  state.cleanup = null;
  renderChrome(match.r.nav);
  const root = clear(viewEl);
  const ctx = { me: state.me, rerender: route };
  state.cleanup = match.r.view.render(root, match.m.slice(1), ctx) || null;
}

document.getElementById("lang").addEventListener("click", () => {
  setLang(lang() === "zh-CN" ? "en" : "zh-CN");
  if (state.me) route();
  else renderLogin();
});
document.getElementById("logout").addEventListener("click", () => {
  clearKey();
  state.me = null;
  if (typeof state.cleanup === "function") state.cleanup();
  state.cleanup = null;
  renderLogin();
});
window.addEventListener("hashchange", route);
window.addEventListener("hazardeye:unauthenticated", () => {
  if (!state.me) return;
  state.me = null;
  clearKey();
  renderLogin(t("login.bad"));
});
// Another tab (or a test) changed the key: sign in again with it.
window.addEventListener("storage", (event) => {
  if (event.key === "hazardeye.key") signIn();
});

// Unacknowledged alerts are counted on the navigation from every screen (field users rarely sit on one).
async function refreshAlertBadge() {
  if (!state.me || document.hidden) return;
  try {
    state.alertCount = (await api("/alerts?unacknowledged=true&limit=100")).length;
    drawAlertBadge();
  } catch { /* the alerts screen shows errors; the badge stays quiet */ }
}

function drawAlertBadge() {
  const link = document.querySelector("[data-nav=alerts]");
  if (!link) return;
  link.querySelector(".count")?.remove();
  const n = state.alertCount;
  if (n) link.append(h("span.count", { id: "alert-count" }, n >= 100 ? "99+" : String(n)));
}
setInterval(refreshAlertBadge, 15000);
window.addEventListener("hashchange", () => setTimeout(refreshAlertBadge, 300));

setLang(lang());
signIn().then(refreshAlertBadge);
