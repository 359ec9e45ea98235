// A tiny element builder: h("div.card", {onclick}, child, ...) — text children are escaped by the DOM.
export function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  return fill(el, attrs, children, true);
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Like h() for SVG elements: svg("polygon.region", {points}) — attributes set as given, text escaped. */
export function svg(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElementNS(SVG_NS, tag);
  if (classes.length) el.setAttribute("class", classes.join(" "));
  return fill(el, attrs, children, false);
}

/** Attributes (listeners for on*; for HTML also dataset, value and checked as properties) and children. */
function fill(el, attrs, children, html) {
  if (attrs === null || typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs)) {
    children.unshift(attrs);
    attrs = {};
  }
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (html && name === "dataset") Object.assign(el.dataset, value);
    else if (html && name === "value") el.value = value;
    else if (html && name === "checked") el.checked = Boolean(value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** An <img> whose source is resolved asynchronously (blob URL); shows a placeholder meanwhile. */
export function asyncImg(load, alt = "") {
  const img = h("img.photo", { alt, loading: "lazy" });
  img.classList.add("pending");
  load()
    .then((url) => {
      img.src = url;
      img.classList.remove("pending");
    })
    .catch(() => img.classList.replace("pending", "broken"));
  return img;
}

/** A status line that shows errors in one place. */
export function messageBox() {
  const box = h("div.msg", { role: "status", "aria-live": "polite" });
  box.show = (text, kind = "info") => {
    box.textContent = text;
    box.className = `msg ${kind}`;
  };
  box.hide = () => {
    box.textContent = "";
    box.className = "msg";
  };
  return box;
}

export function field(label, control) {
  return h("label.field", {}, h("span", {}, label), control);
}
