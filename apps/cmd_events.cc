// graphrec events push: replays input files (the ingest formats) as events
// into a running server's PushEvents rpc.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/rpc_client.h"
#include "core/error.h"
#include "core/progress.h"
#include "graph/ingest.h"

namespace gr::apps {
namespace {

namespace pb = ::graphrec::v1;

struct PushArgs {
  std::string address = "127.0.0.1:50051";
  std::string follows, unfollows, interactions, posts;
  uint32_t batch = 10000;
  double timeout_seconds = 30;
  bool skip_bad_lines = false;
  ClientOptions client;
};

// An event as read, 32 bytes (a day of files can be 10^8 lines).
struct FileEvent {
  uint64_t actor, object;
  uint32_t time, dwell_ms;
  pb::EventKind kind;
  uint32_t interaction;
};

std::vector<FileEvent> ReadEvents(const PushArgs& args) {
  graph::IngestConfig config;
  config.skip_bad_lines = args.skip_bad_lines;
  std::vector<FileEvent> events;
  graph::FileReport file;
  auto report = [&file](const graph::FileReport& r) {
    spdlog::info("{}: {} lines, {} events{}", r.path, r.lines, r.records,
                 r.bad_lines ? fmt::format(", {} bad lines skipped", r.bad_lines) : "");
    file = {};  // the readers add to a report
  };
  // Within one second, posts come before what follows and interacts with them.
  if (!args.posts.empty()) {
    for (const auto& r : graph::ReadPosts(args.posts, config, &file))
      events.push_back({r.author, r.post, r.time, 0, pb::EVENT_POST, 0});
    report(file);
  }
  for (const auto& [path, kind] : {std::pair{&args.follows, pb::EVENT_FOLLOW}, std::pair{&args.unfollows, pb::EVENT_UNFOLLOW}}) {
    if (path->empty()) continue;
    for (const auto& r : graph::ReadFollows(*path, config, &file)) events.push_back({r.src, r.dst, r.time, 0, kind, 0});
    report(file);
  }
  if (!args.interactions.empty()) {
    for (const auto& r : graph::ReadInteractions(args.interactions, config, &file))
      events.push_back({r.account, r.post, r.time, r.dwell_ms, pb::EVENT_INTERACTION, r.type});
    report(file);
  }
  std::stable_sort(events.begin(), events.end(), [](const FileEvent& a, const FileEvent& b) { return a.time < b.time; });
  return events;
}

void RunPush(const PushArgs& args) {
  GR_CHECK(!args.follows.empty() || !args.unfollows.empty() || !args.interactions.empty() || !args.posts.empty(),
           "give at least one of --follows, --unfollows, --interactions, --posts");
  GR_CHECK(args.batch >= 1, "--batch must be >= 1");
  const std::vector<FileEvent> events = ReadEvents(args);
  auto stub = ConnectTo(args.address, args.client);
  const auto start = std::chrono::steady_clock::now();
  uint64_t first_sequence = 0, last_sequence = 0;
  ProgressMeter progress("events push", "events", events.size());
  for (size_t begin = 0; begin < events.size(); begin += args.batch) {
    const size_t end = std::min(events.size(), begin + args.batch);
    pb::PushEventsRequest request;
    for (size_t i = begin; i < end; ++i) {
      const FileEvent& in = events[i];
      pb::Event* e = request.add_events();
      e->set_kind(in.kind);
      e->set_actor(in.actor);
      e->set_object(in.object);
      e->set_time_unix_s(in.time);
      e->set_interaction(in.interaction);
      e->set_dwell_ms(in.dwell_ms);
    }
    pb::PushEventsResponse response;
    ThrowIfFailed(stub->PushEvents(ContextWithTimeout(args.timeout_seconds, args.client.token).get(), request, &response),
                  StrCat("events ", begin, "..", end - 1, " (", begin, " acknowledged before them)"));
    if (begin == 0) first_sequence = response.first_sequence();
    last_sequence = response.first_sequence() + response.count() - 1;
    progress.Add(end - begin);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (JsonOutput()) {
    nlohmann::json out = {{"events", events.size()}, {"seconds", seconds},
                          {"events_per_second", static_cast<double>(events.size()) / std::max(seconds, 1e-9)}};
    if (!events.empty()) out["log_sequences"] = {{"first", first_sequence}, {"last", last_sequence}};
    PrintJson(out);
    return;
  }
  std::printf("events: %zu pushed in %.2f s (%.0f events/s)\n", events.size(), seconds,
              static_cast<double>(events.size()) / std::max(seconds, 1e-9));
  if (!events.empty())
    std::printf("log sequences: %llu..%llu\n", static_cast<unsigned long long>(first_sequence),
                static_cast<unsigned long long>(last_sequence));
}

}  // namespace

void AddEventsCommand(CLI::App& app) {
  auto* events = app.add_subcommand("events", "Send events to a running server (real time)");
  events->require_subcommand(1);
  auto args = std::make_shared<PushArgs>();
  auto* push = events->add_subcommand(
      "push", "Replay input files as events (PushEvents), in time order, in batches; reports events/s");
  push->add_option("--address", args->address, "server host:port")->capture_default_str();
  push->add_option("--follows", args->follows, "follows file: follower_id, followee_id[, timestamp]")
      ->check(CLI::ExistingFile);
  push->add_option("--unfollows", args->unfollows, "unfollows, in the follows format")->check(CLI::ExistingFile);
  push->add_option("--interactions", args->interactions, "interactions file: account_id, post_id, type, timestamp[, dwell_ms]")
      ->check(CLI::ExistingFile);
  push->add_option("--posts", args->posts, "posts file: post_id, author_id[, timestamp]")->check(CLI::ExistingFile);
  push->add_option("--batch", args->batch, "events per request (at most the server's --max-events)")
      ->capture_default_str();
  push->add_option("--timeout", args->timeout_seconds, "deadline of each request, seconds")->capture_default_str();
  push->add_flag("--skip-bad-lines", args->skip_bad_lines, "count and report malformed lines instead of failing");
  AddClientOptions(push, args->client);
  push->callback([args] { RunPush(*args); });
}

}  // namespace gr::apps
