#include "ops/html_page.hpp"

namespace obkeep::ops {

namespace {

// Shared by every page: the look, and small helpers that build elements from data (text
// always through textContent: names in the data are never parsed as HTML).
constexpr const char* style = R"CSS(
body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#222;background:#fafafa}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.6em 0 .5em}
.sub{color:#666;margin-bottom:1em}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eee}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:9px;color:#fff;font-weight:600;font-size:.9em}
.met,.passed,.ok{background:#2e7d32}.at_risk{background:#ef6c00}.violated,.failed{background:#c62828}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{background:#fff;border:1px solid #ccc;padding:6px}
.chart .title{font-size:.85em;margin-bottom:2px}svg text{font-size:10px;fill:#555}
.none{color:#666;font-style:italic}
)CSS";

constexpr const char* helpers = R"JS(
const DATA = JSON.parse(document.getElementById('obkeep-data').textContent);
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}
function fmtDuration(s) {
  if (s === null || s === undefined) return '-';
  if (s < 120) return (Math.round(s * 10) / 10) + ' s';
  if (s < 7200) return (Math.round(s / 6) / 10) + ' min';
  if (s < 172800) return (Math.round(s / 360) / 10) + ' h';
  return (Math.round(s / 8640) / 10) + ' d';
}
function fmtTime(text) { return text ? text.replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC') : 'none'; }
function verdictBadge(verdict) { return el('span', {class: 'badge ' + verdict, 'data-verdict': verdict}, verdict.replace('_', ' ')); }
const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}
// A chart of series [{points: [[x, y]...], cls, dash}] over x0..x1, with a horizontal
// limit line at `limit` (labelled) and y from 0 to the larger of the data and the limit.
function lineChart(series, x0, x1, limit, limitLabel, width, height) {
  const pad = 28, top = 8;
  let ymax = limit || 1;
  for (const s of series) for (const [, y] of s.points) ymax = Math.max(ymax, y);
  ymax *= 1.1;
  const X = x => pad + (x - x0) / Math.max(1, x1 - x0) * (width - pad - 4);
  const Y = y => top + (1 - y / ymax) * (height - top - 14);
  const chart = svg('svg', {width, height, viewBox: `0 0 ${width} ${height}`});
  chart.append(svg('line', {x1: pad, y1: Y(0), x2: width - 4, y2: Y(0), stroke: '#999'}));
  if (limit) {
    chart.append(svg('line', {x1: pad, y1: Y(limit), x2: width - 4, y2: Y(limit), stroke: '#c62828', 'stroke-dasharray': '4 3', class: 'limit'}));
    const label = svg('text', {x: pad + 2, y: Y(limit) - 2});
    label.textContent = limitLabel;
    chart.append(label);
  }
  for (const s of series) {
    const path = s.points.map(([x, y], i) => (i ? 'L' : 'M') + X(x).toFixed(1) + ' ' + Y(y).toFixed(1)).join(' ');
    chart.append(svg('path', {d: path, fill: 'none', stroke: s.color || '#1565c0', 'stroke-width': 1.5, class: s.cls || 'series'}));
    for (const [x, y] of s.marks || []) chart.append(svg('circle', {cx: X(x), cy: Y(y), r: 3, fill: s.color || '#1565c0', class: 'mark'}));
  }
  const axis = svg('text', {x: 2, y: top + 8});
  axis.textContent = fmtDuration(ymax);
  chart.append(axis);
  return chart;
}
)JS";

// JSON inside <script> must not contain "</" (it would end the element early).
std::string embeddable(const nlohmann::json& data) {
  std::string text = data.dump();
  std::string out;
  for (size_t i = 0; i < text.size(); i++) {
    if (text[i] == '<' && i + 1 < text.size() && text[i + 1] == '/') out += "<\\";
    else out += text[i];
  }
  return out;
}

std::string escape_html(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string render_page(const std::string& title, const nlohmann::json& data, const std::string& script) {
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" + escape_html(title) +
                     "</title>\n<style>" + style + "</style></head>\n<body>\n<main id=\"page\"></main>\n" +
                     "<script type=\"application/json\" id=\"obkeep-data\">" + embeddable(data) + "</script>\n<script>" +
                     helpers + script + "</script>\n</body></html>\n";
  return page;
}

}  // namespace obkeep::ops
