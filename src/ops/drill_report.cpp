#include "ops/drill_report.hpp"

#include <cstdio>
#include <sstream>

#include "ops/html_page.hpp"
#include "util/host.hpp"

namespace obkeep::ops {

namespace {

// The report: the figures, then a timeline of the steps (each a bar from its start, so
// the homes and databases recovered side by side overlap, against the RTO), then the
// steps in a table.
constexpr const char* drill_script = R"JS(
const main = document.getElementById('page');
main.append(el('h1', {}, 'Recovery drill: ', verdictBadge(DATA.verdict)));
main.append(el('div', {class: 'sub'}, 'started ' + fmtTime(DATA.started_at) + ', restored from ' +
  (DATA.site ? 'DR site ' + DATA.site : 'the primary') + ' (' + DATA.repository + ')'));
const figures = el('table', {id: 'figures'});
const row = (name, value, attrs) => figures.append(el('tr', {}, el('th', {}, name), el('td', attrs || {}, value)));
row('measured recovery time', fmtDuration(DATA.measured_rto_s), {id: 'measured-rto', 'data-seconds': DATA.measured_rto_s});
row('RTO', DATA.rto_s === null ? 'not set' : fmtDuration(DATA.rto_s), {id: 'rto', 'data-seconds': DATA.rto_s ?? ''});
row('achieved recovery point', DATA.achieved_rpo_s === null ? 'none' : fmtDuration(DATA.achieved_rpo_s) + ' before the drill',
    {id: 'achieved-rpo', 'data-seconds': DATA.achieved_rpo_s ?? ''});
row('RPO', DATA.rpo_s === null ? 'not set' : fmtDuration(DATA.rpo_s), {id: 'rpo'});
row('sandbox', DATA.sandbox);
main.append(figures);
if (DATA.failures.length) {
  main.append(el('h2', {}, 'Why it failed'));
  main.append(el('ul', {id: 'failures'}, ...DATA.failures.map(f => el('li', {}, f))));
}
main.append(el('h2', {}, 'Timeline'));
const width = 760, rowHeight = 18, left = 260;
const total = Math.max(DATA.measured_rto_s, DATA.rto_s || 0, 0.001);
const timeline = svg('svg', {width, height: DATA.steps.length * rowHeight + 24, id: 'timeline'});
DATA.steps.forEach((step, i) => {
  const at = step.start_s;
  const x = left + at / total * (width - left - 10), w = Math.max(1, step.duration_s / total * (width - left - 10));
  const label = svg('text', {x: 4, y: i * rowHeight + 13});
  label.textContent = step.name.length > 40 ? step.name.slice(0, 39) + '…' : step.name;
  timeline.append(label);
  timeline.append(svg('rect', {x, y: i * rowHeight + 3, width: w, height: rowHeight - 6, class: 'step',
    fill: step.ok ? '#2e7d32' : '#c62828', 'data-start-s': at, 'data-duration-s': step.duration_s}));
});
if (DATA.rto_s) {
  const x = left + DATA.rto_s / total * (width - left - 10);
  timeline.append(svg('line', {x1: x, y1: 0, x2: x, y2: DATA.steps.length * rowHeight + 4, stroke: '#c62828', 'stroke-dasharray': '4 3', class: 'limit'}));
  const label = svg('text', {x: x + 3, y: DATA.steps.length * rowHeight + 16});
  label.textContent = 'RTO ' + fmtDuration(DATA.rto_s);
  timeline.append(label);
}
main.append(el('div', {class: 'chart'}, timeline));
main.append(el('h2', {}, 'Steps'));
const steps = el('table', {id: 'steps'}, el('tr', {}, ...['step', 'time', 'result', 'detail'].map(h => el('th', {}, h))));
for (const step of DATA.steps)
  steps.append(el('tr', {class: 'step', 'data-ok': step.ok, 'data-duration-s': step.duration_s},
    el('td', {}, step.name), el('td', {class: 'num'}, fmtDuration(step.duration_s)),
    el('td', {}, verdictBadge(step.ok ? 'ok' : 'failed')), el('td', {}, step.detail)));
main.append(steps);
)JS";

nlohmann::json optional_json(const std::optional<int64_t>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json DrillResult::to_json(const std::string& report_path) const {
  nlohmann::json steps_json = nlohmann::json::array();
  for (const DrillStep& step : steps)
    steps_json.push_back({{"name", step.name}, {"start_s", step.start_s}, {"duration_s", step.duration_s}, {"ok", step.ok}, {"detail", step.detail}});
  return {{"message_type", "drill"},
          {"verdict", passed() ? "passed" : "failed"},
          {"failures", failures},
          {"site", site ? nlohmann::json(*site) : nlohmann::json(nullptr)},
          {"started_at", format_rfc3339(started_ns)},
          {"measured_rto_s", measured_rto_s},
          {"achieved_rpo_s", optional_json(achieved_rpo_s)},
          {"rto_s", optional_json(rto_s)},
          {"rpo_s", optional_json(rpo_s)},
          {"steps", steps_json},
          {"sandbox", sandbox},
          {"report_html", report_path}};
}

std::string DrillResult::to_html() const {
  nlohmann::json data = to_json("");
  data["repository"] = repository;
  return render_page("obkeep recovery drill", data, drill_script);
}

}  // namespace obkeep::ops
