
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/graph_input.h"
#include "apps/output.h"
#include "apps/walk_flags.h"
#include "core/progress.h"
#include "core/sequential_file.h"
#include "core/error.h"
#include "walk/random_walk.h"

namespace gr::apps {
namespace {

struct WalkArgs {
  WalkFlags walk;
  std::string output;
};

void RunWalk(const WalkArgs& args) {
  const walk::WalkConfig config = ResolveWalkConfig(args.walk);
  std::vector<std::string> names;  // by external id, with --ids string
  const graph::SocialGraph g = LoadGraphInput(args.walk.input, args.walk.directed, InputOptions(args.walk), &names);
  const walk::RandomWalker walker(g, config);
  walk::WalkStats stats;
  const auto start = std::chrono::steady_clock::now();
  ProgressMeter progress("walks", "walks", walker.num_walks());
  SequentialFileWriter out(args.output);
  {
    // Destroyed before `out`: its destructor waits for a write in flight,
    // also when a batch throws.
    const auto name_of = [&](VertexId token) {
      return token < g.num_accounts() ? names[g.accounts.ToExternal(token)] : walker.TokenText(token);
    };
    walk::WalkTextWriter text(walker, names.empty() ? std::function<std::string(VertexId)>() : name_of);
    walker.ForEachBatch(std::max<uint64_t>(1, 2'000'000 / config.walk_length),
                        [&](const walk::WalkCorpus& batch) {
      text.Write(batch, out, config.threads);
      progress.Add(batch.num_walks());
    }, &stats);
    text.Flush();
  }
  out.Publish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (JsonOutput()) {
    PrintJson({{"walks", stats.walks}, {"steps", stats.steps}, {"seconds", seconds},
               {"ended_early", stats.ended_early}, {"isolated_starts", stats.isolated_starts},
               {"rejected_proposals", stats.rejected_proposals}, {"output", args.output}});
    return;
  }
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
  AddWalkFlags(cmd, args->walk);
  cmd->add_option("--output", args->output, "walks file: one walk per line, external ids")->required();
  cmd->callback([args] { RunWalk(*args); });
}

}  // namespace gr::apps
