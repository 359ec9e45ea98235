// Small inline-SVG charts drawn by hand: grouped bars and lines over days (no chart library).
import { labelled } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
// Narrow screens get a narrower drawing so labels keep a readable size when scaled to the card.
const W = window.innerWidth < 600 ? 360 : 640;
const H = 220;
const PAD = { l: 40, r: 10, t: 12, b: 34 };

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const mag = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * mag) return step * mag;
  return 10 * mag;
}

function frame(svg, labels, max, fmt) {
  const plotH = H - PAD.t - PAD.b;
  for (let i = 0; i <= 4; i += 1) {
    const y = PAD.t + plotH - (plotH * i) / 4;
    svg.append(el("line", { x1: PAD.l, x2: W - PAD.r, y1: y, y2: y, class: "grid" }));
    svg.append(el("text", { x: PAD.l - 4, y: y + 4, "text-anchor": "end", class: "axis" }, fmt((max * i) / 4)));
  }
  const step = Math.max(1, Math.ceil(labels.length / (W < 600 ? 5 : 8)));
  const slot = (W - PAD.l - PAD.r) / Math.max(labels.length, 1);
  labels.forEach((label, i) => {
    if (i % step) return;
    svg.append(el("text", { x: PAD.l + slot * (i + 0.5), y: H - PAD.b + 16, "text-anchor": "middle",
      class: "axis" }, label));
  });
  return { plotH, slot };
}

function shell(title) {
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart", preserveAspectRatio: "xMidYMid meet" });
  svg.append(el("title", {}, title));
  return svg;
}

function legend(series) {
  const box = document.createElement("div");
  box.className = "legend";
  for (const s of series) {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.className = `sw ${s.cls}`;
    item.append(swatch, document.createTextNode(s.label));
    box.append(item);
  }
  return box;
}

/** Grouped bars: ``series`` = [{label, cls, values: number[]}] over ``labels``. */
export function barChart(title, labels, series) {
  const svg = shell(title);
  // Counts: a multiple of 4 so the four grid steps fall on whole numbers.
  const max = Math.max(4, Math.ceil(niceMax(Math.max(0, ...series.flatMap((s) => s.values))) / 4) * 4);
  const { plotH, slot } = frame(svg, labels, max, (v) => String(Math.round(v)));
  const barW = (slot * 0.8) / series.length;
  series.forEach((s, si) => {
    s.values.forEach((v, i) => {
      const hgt = (plotH * v) / max;
      const x = PAD.l + slot * i + slot * 0.1 + barW * si;
      const rect = el("rect", { x, y: PAD.t + plotH - hgt, width: Math.max(barW - 1, 1), height: hgt, class: s.cls });
      rect.append(el("title", {}, labelled(`${labels[i]} ${s.label}`, v)));
      svg.append(rect);
    });
  });
  return wrap(svg, series);
}

/** Lines; ``max`` fixes the scale (1 for rates); null values break the line. */
export function lineChart(title, labels, series, { max = null, fmt = (v) => String(Math.round(v * 10) / 10) } = {}) {
  const svg = shell(title);
  const top = max ?? Math.max(4, Math.ceil(niceMax(Math.max(0, ...series.flatMap((s) => s.values
    .filter((v) => v !== null)))) / 4) * 4);
  const { plotH, slot } = frame(svg, labels, top, fmt);
  for (const s of series) {
    let d = "";
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) { d += " "; return; }
      const x = PAD.l + slot * (i + 0.5);
      const y = PAD.t + plotH - (plotH * v) / top;
      d += `${d.endsWith(" ") || d === "" ? "M" : "L"}${x.toFixed(1)},${y.toFixed(1)}`;
      const dot = el("circle", { cx: x, cy: y, r: 3, class: s.cls });
      dot.append(el("title", {}, labelled(`${labels[i]} ${s.label}`, fmt(v))));
      svg.append(dot);
    });
    svg.prepend(el("path", { d: d.trim(), class: `line ${s.cls}`, fill: "none" }));
  }
  return wrap(svg, series);
}

function wrap(svg, series) {
  const fig = document.createElement("figure");
  fig.className = "chart-box";
  fig.append(svg, legend(series));
  return fig;
}
