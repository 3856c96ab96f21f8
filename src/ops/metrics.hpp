// The objectives in the Prometheus text format (for node_exporter's textfile collector or
// any scraper): the metric names PRODUCT.md §3 fixes.
#pragma once

#include <string>
#include <vector>

#include "ops/objectives.hpp"

namespace obkeep::ops {

std::string render_metrics(const std::vector<Objective>& objectives);

}  // namespace obkeep::ops
