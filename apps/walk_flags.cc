#include "apps/walk_flags.h"

#include <algorithm>
#include <map>
#include <set>

#include "apps/logging.h"
#include "core/error.h"

#include "core/progress.h"

namespace gr::apps {

void AddWalkFlags(CLI::App* cmd, WalkFlags& flags, bool with_input) {
  auto& c = flags.config;
  if (with_input) {
    cmd->add_option("--input", flags.input,
                    "graph snapshot, edge list 'src dst [weight]', or input directory (follows.tsv, "
                    "interactions.tsv, posts.tsv, as graphrec batch reads it)")
        ->required()->check(CLI::ExistingPath);
    cmd->add_option("--ids", flags.ids,
                    "edge-list ids: integer (default) or string (any text without blanks; outputs are keyed by "
                    "the strings; needs --header yes or no)")
        ->check(CLI::IsMember({"integer", "string"}))->capture_default_str();
    cmd->add_option("--header", flags.header,
                    "line 1 of the edge list: auto (a header if its first field is not a number), yes, no")
        ->check(CLI::IsMember({"auto", "yes", "no"}))->capture_default_str();
  }
  cmd->add_option("--num-walks", c.walks_per_vertex, "walks per start vertex")->capture_default_str();
  cmd->add_option("--walk-length", c.walk_length, "vertices per walk")->capture_default_str();
  cmd->add_option("--p", c.p, "node2vec return parameter")->capture_default_str();
  cmd->add_option("--q", c.q, "node2vec in-out parameter")->capture_default_str();
  cmd->add_flag("--weighted,!--unweighted", c.weighted, "step by edge weight (--unweighted: the default)");
  cmd->add_flag("--directed,!--undirected", flags.directed,
                "edge list is directed; walks follow out-edges (--undirected: the default view)");
  cmd->add_option("--direction", flags.direction,
                  "follow edges to take: out, in or both (default: out with --directed, else both)")
      ->check(CLI::IsMember({"out", "in", "both"}));
  cmd->add_option("--kind", flags.kind,
                  "uniform, weighted, node2vec, metapath, or auto (node2vec if p or q != 1, "
                  "metapath if --metapath, weighted if --weighted)")
      ->check(CLI::IsMember({"auto", "uniform", "weighted", "node2vec", "metapath"}))
      ->capture_default_str();
  cmd->add_option("--metapath", c.metapath,
                  "relations repeated cyclically, e.g. follows,followed_by or interacts,authored_by");
  cmd->add_option("--workers", flags.run.threads, "threads, 0 = all cores")->capture_default_str();
  cmd->add_option("--seed,--random_state", flags.run.seed, "random seed")->capture_default_str();
  // PecanPy's own flags, so its command lines run unchanged.
  cmd->add_option("--mode", flags.pecanpy_mode,
                  "PecanPy's execution mode: accepted and checked as PecanPy checks it (FirstOrderUnweighted "
                  "needs p = q = 1 and no weights, PreCompFirstOrder p = q = 1); graphrec picks its own sampler")
      ->check(CLI::IsMember({"SparseOTF", "DenseOTF", "PreComp", "PreCompFirstOrder", "FirstOrderUnweighted"}));
  cmd->add_option("--delimiter", flags.delimiter,
                  "field separator of a text edge list (PecanPy's flag): tab, comma or space are read "
                  "whatever is given; other separators are refused");
  cmd->add_flag("--implicit_ids", flags.implicit_ids,
                "PecanPy's flag, accepted: integer node ids are kept as written either way");
  cmd->add_flag_callback("--verbose", [] { SetProgressMode("always"); },
                         "progress lines for every long step (PecanPy's flag; the same as --progress always)");
}

void AddTrainingFlags(CLI::App* cmd, embed::SkipGramConfig& t) {
  cmd->add_option("--dimensions", t.dim, "vector size")->capture_default_str();
  cmd->add_option("--window-size", t.window, "largest context distance")->capture_default_str();
  cmd->add_option("--negatives", t.negatives, "negative samples per centre token")->capture_default_str();
  cmd->add_option("--epochs,--iter", t.epochs, "passes over the walks (--iter: node2vec's name)")->capture_default_str();
  cmd->add_option("--learning-rate", t.learning_rate, "start learning rate, decays linearly")->capture_default_str();
  cmd->add_option("--subsample", t.subsample, "frequent-token subsampling threshold, 0 = off")->capture_default_str();
}

void AddDistributedTrainingFlags(CLI::App* cmd, DistributedTrainingFlags& flags) {
  cmd->add_option("--training-model", flags.model,
                  "under mpirun: partitioned (each rank holds ~3/N of a matrix; the input vectors pass from rank "
                  "to rank) or replicated (every rank trains a whole copy, changes summed every "
                  "--sync-tokens-per-row); docs/commands.md compares them")
      ->check(CLI::IsMember({"partitioned", "replicated"}))->capture_default_str();
  cmd->add_option("--sync-tokens-per-row", flags.sync_tokens_per_row,
                  "under mpirun, --training-model replicated: tokens of the whole corpus trained between two "
                  "synchronisations of the ranks' model replicas, per account; smaller is closer to one process "
                  "and costs more traffic (bench/README.md)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--passes-per-epoch", flags.passes_per_epoch,
                  "under mpirun, --training-model partitioned: passes of the input vectors around the ranks an epoch; "
                  "more is closer to one process and sends the input vectors once more each (bench/README.md)")
      ->check(CLI::PositiveNumber)->capture_default_str();
}

void ReportTrainingProgress(embed::SkipGramConfig& config) {
  config.progress_seconds = ProgressIntervalSeconds();
  config.on_progress = [](const embed::TrainingProgress& p) {
    ReportProgress({.step = "training", .unit = "tokens", .done = p.processed, .total = p.total, .seconds = p.seconds});
  };
}

namespace {

// PecanPy refuses these modes where they cannot hold; so do we.
void CheckPecanPyMode(const std::string& mode, const walk::WalkConfig& config) {
  const bool first_order = config.p == 1.0 && config.q == 1.0;
  if (mode == "FirstOrderUnweighted")
    GR_CHECK(first_order && !config.weighted, "--mode FirstOrderUnweighted needs p = q = 1 and an unweighted graph (got p ",
             config.p, ", q ", config.q, config.weighted ? ", --weighted)" : ")");
  if (mode == "PreCompFirstOrder")
    GR_CHECK(first_order, "--mode PreCompFirstOrder needs p = q = 1 (got p ", config.p, ", q ", config.q, ")");
}

void CheckDelimiter(const std::string& delimiter) {
  // A tab as typed in a shell: a real tab, or backslash-t.
  static const std::set<std::string> kRead{"\t", "\\t", "tab", ",", "comma", " ", "space"};
  GR_CHECK(delimiter.empty() || kRead.count(delimiter) > 0,
           "--delimiter '", Excerpt(delimiter), "': graphrec reads tab-, comma- or space-separated edge lists; "
           "convert the file to one of those");
}

}  // namespace

GraphInputOptions InputOptions(const WalkFlags& flags) {
  return {.string_ids = flags.ids == "string", .header = graph::ParseHeaderPolicy(flags.header)};
}

walk::WalkConfig ResolveWalkConfig(const WalkFlags& flags) {
  CheckDelimiter(flags.delimiter);
  walk::WalkConfig config = flags.config;
  CheckPecanPyMode(flags.pecanpy_mode, config);
  config.threads = flags.run.threads;
  config.seed = flags.run.SeedFor(SeedStream::kWalks);
  const std::map<std::string, walk::WalkKind> kinds{{"uniform", walk::WalkKind::kUniform},
                                                   {"weighted", walk::WalkKind::kWeighted},
                                                   {"node2vec", walk::WalkKind::kNode2vec},
                                                   {"metapath", walk::WalkKind::kMetapath}};
  if (flags.kind != "auto") {
    config.kind = kinds.at(flags.kind);
  } else if (!config.metapath.empty()) {
    config.kind = walk::WalkKind::kMetapath;
  } else if (config.p != 1.0 || config.q != 1.0) {
    config.kind = walk::WalkKind::kNode2vec;
  } else {
    config.kind = config.weighted ? walk::WalkKind::kWeighted : walk::WalkKind::kUniform;
  }
  const std::map<std::string, walk::Direction> directions{
      {"out", walk::Direction::kOut}, {"in", walk::Direction::kIn}, {"both", walk::Direction::kBoth}};
  if (!flags.direction.empty()) {
    config.direction = directions.at(flags.direction);
  } else {
    config.direction = flags.directed ? walk::Direction::kOut : walk::Direction::kBoth;
  }
  return config;
}

}  // namespace gr::apps
