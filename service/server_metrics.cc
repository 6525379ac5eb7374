#include "service/server_metrics.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <utility>

#include "service/latency.h"
#include "service/live_events.h"
#include "service/metrics.h"
#include "service/model.h"
#include "service/refresher.h"

namespace gr::service {

std::string RenderServerMetrics(const RequestStats& requests, const ModelSource& source, const LiveEvents& live_events,
                                const Refresher& refresher, const std::string& artifacts_dir) {
  PrometheusText out;
  requests.WritePrometheus(out);

  const std::shared_ptr<const Model> model = source.Get();
  out.Gauge("graphrec_version_loaded", "1 once the server has loaded its first version (health SERVING).",
            model != nullptr ? 1 : 0);
  if (model != nullptr) {
    out.Family("graphrec_version_info", "gauge", "The live version (always 1; its name is the label).");
    out.Sample("graphrec_version_info", {{"version", model->version}}, 1);
    out.Family("graphrec_version_loaded_timestamp_seconds", "gauge", "When the live version was loaded (Unix time).");
    out.Sample("graphrec_version_loaded_timestamp_seconds", {}, static_cast<double>(model->loaded_at_unix_ms) / 1000.0);
    // The manifest is the batch's last write before publishing: its time is the version's.
    struct stat manifest {};
    if (::stat((std::filesystem::path(artifacts_dir) / model->version / "manifest.json").c_str(), &manifest) == 0) {
      const auto published = static_cast<double>(manifest.st_mtime);
      const auto now = static_cast<double>(
          std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
      out.Family("graphrec_version_published_timestamp_seconds", "gauge",
                 "When the live version was published (its manifest's time, Unix time).");
      out.Sample("graphrec_version_published_timestamp_seconds", {}, published);
      out.Family("graphrec_version_age_seconds", "gauge", "Seconds since the live version was published.");
      out.Sample("graphrec_version_age_seconds", {}, now - published);
    }
  }
  out.Family("graphrec_reloads_total", "counter", "Versions swapped in since start.");
  out.Sample("graphrec_reloads_total", {}, static_cast<double>(source.reloads()));
  out.Family("graphrec_failed_reloads_total", "counter", "Versions that failed to load (the old one stayed live).");
  out.Sample("graphrec_failed_reloads_total", {}, static_cast<double>(source.failed_reloads()));

  out.Family("graphrec_events_logged_total", "counter",
             "Events ever appended to the event log (its next sequence number).");
  out.Sample("graphrec_events_logged_total", {}, static_cast<double>(live_events.log_end()));
  out.Family("graphrec_events_applied_total", "counter",
             "Events in the live graph (log sequence); logged minus applied = events waiting to be applied.");
  out.Sample("graphrec_events_applied_total", {}, static_cast<double>(live_events.applied_end()));
  out.Family("graphrec_event_apply_failures_total", "counter",
             "Logged events the live graph could not take (an id space overflow).");
  out.Sample("graphrec_event_apply_failures_total", {}, static_cast<double>(live_events.failed_applies()));
  if (live_events.newest_event_time() > 0) {
    out.Gauge("graphrec_event_newest_timestamp_seconds",
              "Event time of the newest event in the live graph (Unix time); time() minus it is the ingestion lag.",
              live_events.newest_event_time());
  }
  if (live_events.last_push_time() > 0) {
    out.Gauge("graphrec_event_last_push_timestamp_seconds", "When the last PushEvents request arrived (Unix time).",
              live_events.last_push_time());
  }
  out.Family("graphrec_refresh_passes_total", "counter", "Passes of the vector refresher (serve --refresh-seconds).");
  out.Sample("graphrec_refresh_passes_total", {}, static_cast<double>(refresher.passes()));
  out.Family("graphrec_refreshed_accounts_total", "counter", "Account vectors the refresher refreshed.");
  out.Sample("graphrec_refreshed_accounts_total", {}, static_cast<double>(refresher.refreshed_accounts()));
  out.Family("graphrec_refreshed_posts_total", "counter",
             "Post vectors the refresher set by the post-vector rule (new posts, cold posts with new engagers).");
  out.Sample("graphrec_refreshed_posts_total", {}, static_cast<double>(refresher.indexed_posts()));
  if (const std::shared_ptr<const RefreshDrift> drift = refresher.last_drift()) {
    out.Family("graphrec_refresh_drift_cosine", "gauge",
               "When a new version superseded the refreshed vectors: mean cosine of its vectors to the refreshed "
               "ones and to the old version's, over the refreshed accounts (refreshed above old = moved the right "
               "way).");
    out.Sample("graphrec_refresh_drift_cosine", {{"vectors", "refreshed"}}, drift->refreshed_cosine);
    out.Sample("graphrec_refresh_drift_cosine", {{"vectors", "old_version"}}, drift->stale_cosine);
    out.Gauge("graphrec_refresh_drift_accounts", "Accounts the last drift figure averages over.",
              static_cast<double>(drift->accounts));
  }
  if (refresher.last_pass_end() > 0) {
    out.Gauge("graphrec_refresh_last_pass_timestamp_seconds",
              "When the last refresh pass ended (Unix time); time() minus it is the refresh lag.",
              refresher.last_pass_end());
    out.Gauge("graphrec_refresh_last_pass_duration_seconds", "How long the last refresh pass took.",
              refresher.last_pass_seconds());
  }
  const std::shared_ptr<const LiveState> live = live_events.state();
  if (live == nullptr) return out.text();
  const graph::LiveGraphCounts counts = live->graph->counts();
  out.Family("graphrec_event_log_watermark", "gauge",
             "Log sequence the live version already contains (from its manifest).");
  out.Sample("graphrec_event_log_watermark", {}, static_cast<double>(live->watermark));
  out.Family("graphrec_live_graph_changes_total", "counter",
             "Changes the live graph applied since the live version, by kind.");
  for (const auto& [kind, n] : {std::pair<const char*, uint64_t>{"new_account", counts.new_accounts},
                                {"new_post", counts.new_posts},
                                {"follow", counts.follows},
                                {"unfollow", counts.unfollows},
                                {"interaction", counts.interactions},
                                {"ignored", counts.ignored}})
    out.Sample("graphrec_live_graph_changes_total", {{"kind", kind}}, static_cast<double>(n));
  out.Family("graphrec_live_graph_delta_bytes", "gauge", "Memory the live graph's delta holds.");
  out.Sample("graphrec_live_graph_delta_bytes", {}, static_cast<double>(live->graph->DeltaMemoryBytes()));
  return out.text();
}

}  // namespace gr::service
