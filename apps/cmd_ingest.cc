#include <spdlog/spdlog.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/output.h"
#include "core/error.h"
#include "graph/ingest.h"
#include "graph/snapshot.h"
#include "graph/stats.h"

namespace gr::apps {
namespace {

struct IngestArgs {
  graph::InputFiles files;
  std::string edge_list;
  bool directed = false;
  std::string out;
  std::string report_json;
  graph::IngestConfig config;
};

void RunIngest(const IngestArgs& args) {
  graph::IngestReport report;
  graph::SocialGraph g;
  if (!args.edge_list.empty()) {
    GR_CHECK(args.files.follows.empty() && args.files.interactions.empty() && args.files.posts.empty(),
             "--edge-list cannot be combined with --follows/--interactions/--posts");
    spdlog::info("reading edge list {} ({})", args.edge_list, args.directed ? "directed" : "undirected");
    g = graph::LoadEdgeList(args.edge_list, args.directed, args.config, &report);
  } else {
    GR_CHECK(!args.files.follows.empty(), "give --follows FILE (or --edge-list FILE)");
    spdlog::info("ingesting {}", args.files.follows);
    g = graph::Ingest(args.files, args.config, &report);
  }
  graph::SaveSnapshot(g, args.out);
  if (JsonOutput()) {
    PrintJson({{"report", nlohmann::json::parse(report.ToJson())}, {"accounts", g.num_accounts()},
               {"posts", g.num_posts()}, {"follow_edges", g.following.num_edges()},
               {"interaction_edges", g.engagements.num_edges()}, {"snapshot", args.out},
               {"memory_bytes", g.MemoryBytes()}});
  } else {
    std::fputs(report.ToText().c_str(), stdout);
    std::printf("accounts: %zu\nposts: %zu\nfollow edges: %llu\ninteraction edges: %llu\n",
                g.num_accounts(), g.num_posts(),
                static_cast<unsigned long long>(g.following.num_edges()),
                static_cast<unsigned long long>(g.engagements.num_edges()));
    std::printf("snapshot: %s (%.1f MiB in memory)\n", args.out.c_str(),
                static_cast<double>(g.MemoryBytes()) / (1 << 20));
  }
  if (!args.report_json.empty()) {
    std::ofstream json(args.report_json);
    json << report.ToJson() << "\n";
    GR_CHECK_CODE(json.good(), ErrorCode::kIo, "cannot write ", args.report_json);
  }
}

}  // namespace

void AddIngestCommand(CLI::App& app) {
  auto args = std::make_shared<IngestArgs>();
  auto* cmd = app.add_subcommand("ingest", "Read input edge files into a binary graph snapshot");
  cmd->add_option("--follows", args->files.follows,
                  "follows file: follower_id, followee_id[, timestamp]")->check(CLI::ExistingFile);
  cmd->add_option("--interactions", args->files.interactions,
                  "interactions file: account_id, post_id, type, timestamp[, dwell_ms]")
      ->check(CLI::ExistingFile);
  cmd->add_option("--posts", args->files.posts, "posts file: post_id, author_id[, timestamp]")
      ->check(CLI::ExistingFile);
  cmd->add_option("--edge-list", args->edge_list,
                  "generic edge list 'src dst [weight]' instead of the files above")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--directed", args->directed, "with --edge-list: edges are directed (default undirected)");
  cmd->add_option("--out", args->out, "snapshot file to write (atomically)")->required();
  cmd->add_flag("--skip-bad-lines", args->config.skip_bad_lines,
                "count and report malformed lines instead of failing on the first");
  const std::map<std::string, graph::SelfLoopPolicy> loops{{"drop", graph::SelfLoopPolicy::kDrop},
                                                           {"keep", graph::SelfLoopPolicy::kKeep}};
  cmd->add_option("--self-loops", args->config.self_loops, "self-loop policy: drop (default) or keep")
      ->transform(CLI::CheckedTransformer(loops, CLI::ignore_case));
  const std::map<std::string, graph::DuplicatePolicy> dups{{"sum", graph::DuplicatePolicy::kSum},
                                                          {"max", graph::DuplicatePolicy::kMax},
                                                          {"keep", graph::DuplicatePolicy::kKeep}};
  cmd->add_option("--duplicates", args->config.duplicates,
                  "duplicate-edge policy: sum weights (default), max weight, or keep parallel edges")
      ->transform(CLI::CheckedTransformer(dups, CLI::ignore_case));
  const std::map<std::string, graph::HeaderPolicy> headers{{"auto", graph::HeaderPolicy::kAuto},
                                                           {"yes", graph::HeaderPolicy::kYes},
                                                           {"no", graph::HeaderPolicy::kNo}};
  cmd->add_option("--header", args->config.header,
                  "line 1 of every input file: auto (a header if its first field is not a number; default), yes, no")
      ->transform(CLI::CheckedTransformer(headers, CLI::ignore_case));
  auto& w = args->config.weights;
  cmd->add_option("--half-life-days", w.interaction_half_life_days,
                  "interaction weight half-life in days, 0 = no decay")->capture_default_str();
  cmd->add_option("--follow-half-life-days", w.follow_half_life_days,
                  "follow weight half-life in days, 0 = no decay")->capture_default_str();
  cmd->add_option("--reference-time", w.reference_time,
                  "Unix seconds the decay is measured to; -1 = newest timestamp in the input")
      ->capture_default_str();
  cmd->add_option("--weight-follow", w.follow, "weight of a follow edge")->capture_default_str();
  cmd->add_option("--weight-click", w.interaction[0], "weight of a click")->capture_default_str();
  cmd->add_option("--weight-like", w.interaction[1], "weight of a like")->capture_default_str();
  cmd->add_option("--weight-comment", w.interaction[2], "weight of a comment")->capture_default_str();
  cmd->add_option("--weight-repost", w.interaction[3], "weight of a repost")->capture_default_str();
  cmd->add_option("--threads", args->config.threads, "threads, 0 = all cores")->capture_default_str();
  cmd->add_option("--report-json", args->report_json, "also write the ingest report as JSON here");
  cmd->callback([args] { RunIngest(*args); });
}

void AddStatsCommand(CLI::App& app) {
  auto snapshot = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("stats", "Print counts, degree percentiles and components of a snapshot");
  cmd->add_option("snapshot", *snapshot, "graph snapshot written by 'graphrec ingest'")
      ->required()->check(CLI::ExistingFile);
  cmd->callback([snapshot] {
    const graph::SocialGraph g = graph::LoadSnapshot(*snapshot);
    const graph::GraphStats stats = graph::ComputeStats(g);
    std::fputs(JsonOutput() ? (stats.ToJson() + "\n").c_str() : stats.ToText().c_str(), stdout);
  });
}

}  // namespace gr::apps
