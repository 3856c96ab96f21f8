#include "ops/status_page.hpp"

#include <algorithm>

#include "ops/html_page.hpp"
#include "util/host.hpp"

namespace obkeep::ops {

using nlohmann::json;

namespace {

json optional_json(const std::optional<int64_t>& value) { return value ? json(*value) : json(nullptr); }

constexpr const char* script = R"JS(
const main = document.getElementById('page');
main.append(el('h1', {}, 'obkeep status: ', verdictBadge(DATA.verdict)));
main.append(el('div', {class: 'sub'}, 'as of ' + fmtTime(DATA.checked_at)));

main.append(el('h2', {}, 'Objectives'));
const table = el('table', {id: 'objectives'},
  el('tr', {}, ...['verdict', 'set', 'site', 'home or database', 'newest recovery point', 'age', 'RPO', 'last drill RTO', 'RTO']
    .map(h => el('th', {}, h))));
for (const o of DATA.objectives) {
  table.append(el('tr', {class: 'objective', 'data-key': o.key, 'data-verdict': o.verdict,
                         'data-age-s': o.age_s === null ? '' : o.age_s, 'data-rpo-s': o.rpo_s},
    el('td', {}, verdictBadge(o.verdict)), el('td', {}, o.set), el('td', {}, o.site || 'primary'),
    el('td', {}, o.what), el('td', {}, fmtTime(o.newest_recovery_point)),
    el('td', {class: 'num age'}, fmtDuration(o.age_s)), el('td', {class: 'num'}, fmtDuration(o.rpo_s)),
    el('td', {class: 'num'}, fmtDuration(o.last_drill_rto_s)), el('td', {class: 'num'}, fmtDuration(o.rto_s))));
}
main.append(table);

main.append(el('h2', {}, 'Recovery point age against the RPO, last ' + fmtDuration(DATA.window_s)));
const charts = el('div', {class: 'charts', id: 'age-charts'});
const t0 = DATA.now_s - DATA.window_s;
for (const o of DATA.objectives) {
  const chart = lineChart([{points: o.ages, cls: 'age'}], t0, DATA.now_s, o.rpo_s, 'RPO ' + fmtDuration(o.rpo_s), 320, 110);
  charts.append(el('div', {class: 'chart', 'data-key': o.key, 'data-points': o.ages.length},
    el('div', {class: 'title'}, o.set + ' @ ' + (o.site || 'primary') + ' - ' + o.what), chart));
}
main.append(charts);

main.append(el('h2', {}, 'Drills'));
if (!DATA.drills.length) {
  main.append(el('p', {class: 'none', id: 'drills'}, 'no drill recorded yet'));
} else {
  const rto = DATA.drills.reduce((m, d) => d.rto_s ? Math.min(m, d.rto_s) : m, Infinity);
  const points = DATA.drills.map(d => [d.time_s, d.measured_rto_s]);
  main.append(el('div', {class: 'chart'}, el('div', {class: 'title'}, 'measured RTO per drill'),
    lineChart([{points, marks: points, cls: 'rto'}], Math.min(...points.map(p => p[0])) - 1, DATA.now_s,
              isFinite(rto) ? rto : 0, 'RTO ' + fmtDuration(rto), 480, 130)));
  const drills = el('table', {id: 'drills'},
    el('tr', {}, ...['time', 'site', 'verdict', 'measured RTO', 'RTO', 'why it failed'].map(h => el('th', {}, h))));
  for (const d of [...DATA.drills].reverse())
    drills.append(el('tr', {class: 'drill', 'data-verdict': d.verdict, 'data-measured-rto-s': d.measured_rto_s},
      el('td', {}, fmtTime(d.time)), el('td', {}, d.site || 'primary'), el('td', {}, verdictBadge(d.verdict)),
      el('td', {class: 'num'}, fmtDuration(d.measured_rto_s)), el('td', {class: 'num'}, fmtDuration(d.rto_s)),
      el('td', {}, d.failures.join('; '))));
  main.append(drills);
}

main.append(el('h2', {}, 'Failures, last first'));
if (!DATA.failures.length) {
  main.append(el('p', {class: 'none', id: 'failures'}, 'none'));
} else {
  const failures = el('table', {id: 'failures'}, el('tr', {}, ...['time', 'job', 'error'].map(h => el('th', {}, h))));
  for (const f of [...DATA.failures].reverse())
    failures.append(el('tr', {class: 'failure'}, el('td', {}, fmtTime(f.time)), el('td', {}, f.job), el('td', {}, f.error)));
  main.append(failures);
}
)JS";

}  // namespace

std::vector<std::pair<int64_t, int64_t>> recovery_point_ages(const std::vector<int64_t>& points_ns, int64_t from_ns,
                                                             int64_t to_ns) {
  std::vector<std::pair<int64_t, int64_t>> ages;
  std::optional<int64_t> newest;  // the newest point at or before the current time
  for (int64_t point : points_ns)
    if (point <= from_ns) newest = point;
  auto age_at = [&](int64_t t) { return (t - *newest) / second_ns; };
  if (newest) ages.emplace_back(from_ns / second_ns, age_at(from_ns));
  for (int64_t point : points_ns) {
    if (point <= from_ns || point > to_ns) continue;
    if (newest) ages.emplace_back(point / second_ns, age_at(point));  // the top of the tooth
    newest = point;
    ages.emplace_back(point / second_ns, 0);
  }
  if (newest) ages.emplace_back(to_ns / second_ns, age_at(to_ns));
  return ages;
}

json StatusPage::data() const {
  Verdict worst = Verdict::met;
  json objectives_json = json::array();
  for (const ObjectiveHistory& history : objectives) {
    const Objective& o = *history.objective;
    worst = std::max(worst, o.verdict);
    std::optional<double> last_drill_rto;
    for (const DrillRecord& drill : drills)
      if (drill.site == o.site) last_drill_rto = drill.measured_rto_s;
    json ages = json::array();
    for (auto [t, age] : recovery_point_ages(history.recovery_points_ns, now_ns - window_s * second_ns, now_ns))
      ages.push_back({t, age});
    std::string what = o.set == "databases" ? o.database_name + " " + o.database : o.home;
    std::string key = o.set + "/" + (o.set == "databases" ? o.database : o.home) + (o.site ? "@" + *o.site : "");
    objectives_json.push_back({{"key", key},
                               {"set", o.set},
                               {"site", o.site ? json(*o.site) : json(nullptr)},
                               {"what", what},
                               {"verdict", to_string(o.verdict)},
                               {"newest_recovery_point", o.newest_ns ? json(format_rfc3339(*o.newest_ns)) : json(nullptr)},
                               {"age_s", optional_json(o.age_s)},
                               {"rpo_s", o.rpo_s},
                               {"rto_s", optional_json(o.rto_s)},
                               {"last_drill_rto_s", last_drill_rto ? json(*last_drill_rto) : json(nullptr)},
                               {"ages", ages}});
  }
  json drills_json = json::array();
  for (const DrillRecord& drill : drills)
    drills_json.push_back({{"time", format_rfc3339(drill.time_ns)},
                           {"time_s", drill.time_ns / second_ns},
                           {"site", drill.site ? json(*drill.site) : json(nullptr)},
                           {"verdict", drill.passed ? "passed" : "failed"},
                           {"measured_rto_s", drill.measured_rto_s},
                           {"rto_s", optional_json(drill.rto_s)},
                           {"failures", drill.failures}});
  json failures_json = json::array();
  for (const JobFailure& failure : failures)
    failures_json.push_back({{"time", format_rfc3339(failure.time_ns)}, {"job", failure.job}, {"error", failure.error}});
  return {{"checked_at", format_rfc3339(now_ns)}, {"now_s", now_ns / second_ns}, {"window_s", window_s},
          {"verdict", to_string(worst)},          {"objectives", objectives_json}, {"drills", drills_json},
          {"failures", failures_json},           {"jobs", jobs}};
}

std::string StatusPage::html() const { return render_page("obkeep status", data(), script); }

}  // namespace obkeep::ops
