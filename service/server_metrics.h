// The /metrics page of `graphrec serve` (Prometheus text format): the
// request figures, the live version (name, publication time and age,
// reloads), the event log and live graph, and the vector refresher. Every metric is listed in
// docs/commands.md.
#pragma once

#include <string>

namespace gr::service {

class RequestStats;
class ModelSource;
class LiveEvents;
class Refresher;

std::string RenderServerMetrics(const RequestStats& requests, const ModelSource& source, const LiveEvents& live,
                                const Refresher& refresher, const std::string& artifacts_dir);

}  // namespace gr::service
