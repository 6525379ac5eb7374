#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "apps/commands.h"
#include "apps/graph_input.h"
#include "core/error.h"
#include "walk/random_walk.h"

namespace gr::apps {
namespace {

struct WalkArgs {
  std::string input, output, kind = "auto", direction;
  bool directed = false;
  walk::WalkConfig config;
};

walk::WalkKind ResolveKind(const WalkArgs& args) {
  if (args.kind == "uniform") return walk::WalkKind::kUniform;
  if (args.kind == "weighted") return walk::WalkKind::kWeighted;
  if (args.kind == "node2vec") return walk::WalkKind::kNode2vec;
  if (args.kind == "metapath") return walk::WalkKind::kMetapath;
  if (!args.config.metapath.empty()) return walk::WalkKind::kMetapath;
  if (args.config.p != 1.0 || args.config.q != 1.0) return walk::WalkKind::kNode2vec;
  return args.config.weighted ? walk::WalkKind::kWeighted : walk::WalkKind::kUniform;
}

void RunWalk(WalkArgs& args) {
  args.config.kind = ResolveKind(args);
  if (args.direction.empty()) {
    args.config.direction = args.directed ? walk::Direction::kOut : walk::Direction::kBoth;
  } else {
    const std::map<std::string, walk::Direction> directions{
        {"out", walk::Direction::kOut}, {"in", walk::Direction::kIn}, {"both", walk::Direction::kBoth}};
    args.config.direction = directions.at(args.direction);
  }
  const graph::SocialGraph g = LoadGraphInput(args.input, args.directed);
  const walk::RandomWalker walker(g, args.config);
  const std::string temp = args.output + ".tmp";
  std::FILE* out = std::fopen(temp.c_str(), "wb");
  GR_CHECK_CODE(out != nullptr, ErrorCode::kIo, "cannot create ", temp);
  walk::WalkStats stats;
  const auto start = std::chrono::steady_clock::now();
  const uint64_t total = walker.num_walks();
  auto last_log = start;
  try {
    walker.ForEachBatch(std::max<uint64_t>(1, 2'000'000 / args.config.walk_length),
                        [&](const walk::WalkCorpus& batch) {
      walk::AppendWalksText(walker, batch, out);
      const auto now = std::chrono::steady_clock::now();
      if (now - last_log > std::chrono::seconds(5)) {
        last_log = now;
        const double seconds = std::chrono::duration<double>(now - start).count();
        const double rate = static_cast<double>(stats.walks) / seconds;
        spdlog::info("walks {}/{} ({:.0f}/s, ETA {:.0f} s)", stats.walks, total, rate,
                     static_cast<double>(total - stats.walks) / rate);
      }
    }, &stats);
  } catch (...) {
    std::fclose(out);
    std::remove(temp.c_str());
    throw;
  }
  GR_CHECK_CODE(std::fclose(out) == 0, ErrorCode::kIo, "cannot write ", temp);
  std::filesystem::rename(temp, args.output);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("walks: %llu (%llu steps, %.1f M steps/s incl. text output)\n"
              "ended early at a dead end: %llu; isolated start vertices: %llu\n"
              "node2vec rejected proposals: %llu\noutput: %s\n",
              static_cast<unsigned long long>(stats.walks), static_cast<unsigned long long>(stats.steps),
              static_cast<double>(stats.steps) / seconds / 1e6,
              static_cast<unsigned long long>(stats.ended_early),
              static_cast<unsigned long long>(stats.isolated_starts),
              static_cast<unsigned long long>(stats.rejected_proposals), args.output.c_str());
}

}  // namespace

void AddWalkCommand(CLI::App& app) {
  auto args = std::make_shared<WalkArgs>();
  auto* cmd = app.add_subcommand("walk", "Generate random walks (DeepWalk, weighted, node2vec, metapath)");
  cmd->add_option("--input", args->input, "graph snapshot or edge list 'src dst [weight]'")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--output", args->output, "walks file: one walk per line, external ids")->required();
  cmd->add_option("--num-walks", args->config.walks_per_vertex, "walks per start vertex")->capture_default_str();
  cmd->add_option("--walk-length", args->config.walk_length, "vertices per walk")->capture_default_str();
  cmd->add_option("--p", args->config.p, "node2vec return parameter")->capture_default_str();
  cmd->add_option("--q", args->config.q, "node2vec in-out parameter")->capture_default_str();
  cmd->add_flag("--weighted", args->config.weighted, "step by edge weight");
  cmd->add_flag("--directed", args->directed,
                "edge list is directed; walks follow out-edges (default: undirected view)");
  cmd->add_option("--direction", args->direction,
                  "follow edges to take: out, in or both (default: out with --directed, else both)")
      ->check(CLI::IsMember({"out", "in", "both"}));
  cmd->add_option("--kind", args->kind,
                  "uniform, weighted, node2vec, metapath, or auto (node2vec if p or q != 1, "
                  "metapath if --metapath, weighted if --weighted)")
      ->check(CLI::IsMember({"auto", "uniform", "weighted", "node2vec", "metapath"}))
      ->capture_default_str();
  cmd->add_option("--metapath", args->config.metapath,
                  "relations repeated cyclically, e.g. follows,followed_by or interacts,authored_by");
  cmd->add_option("--workers", args->config.threads, "threads, 0 = all cores")->capture_default_str();
  cmd->add_option("--seed", args->config.seed, "random seed; same seed = same walks for any --workers")
      ->capture_default_str();
  cmd->callback([args] { RunWalk(*args); });
}

}  // namespace gr::apps
