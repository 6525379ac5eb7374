#include "pipeline/batch.h"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/binary_io.h"
#include "core/error.h"
#include "core/rng.h"
#include "embed/embedding_io.h"
#include "embed/evaluation.h"
#include "embed/warm_start.h"
#include "graph/edge_split.h"
#include "graph/ingest.h"
#include "pipeline/artifacts.h"
#include "core/atomic_file.h"
#include "graph/snapshot.h"

namespace gr::pipeline {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The input file `name` (or name.gz) in dir, or "" if absent.
std::string InputFile(const std::string& dir, const std::string& name) {
  for (const std::string& candidate : {name, name + ".gz"}) {
    const fs::path path = fs::path(dir) / candidate;
    if (fs::exists(path)) return path.string();
  }
  return "";
}

double PeakRssMb() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      double kb = 0;
      status >> kb;
      return kb / 1024.0;
    }
  }
  return 0;
}

uint32_t FileCrc(const std::string& path, uint64_t* bytes) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buffer(1 << 20);
  uint32_t crc = 0;
  *bytes = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<size_t>(in.gcount());
    crc = Crc32(std::as_bytes(std::span(buffer.data(), got)), crc);
    *bytes += got;
  }
  return crc;
}

std::string TimeVersion() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char name[32];
  std::strftime(name, sizeof name, "v%Y%m%d-%H%M%S", &utc);
  return name;
}

// Up to `limit` of the pairs, chosen with the seed (all when fewer).
std::vector<embed::RowPair> SamplePairs(const std::vector<graph::VertexPair>& pairs, size_t limit, uint64_t seed) {
  std::vector<embed::RowPair> out(pairs.begin(), pairs.end());
  if (out.size() <= limit) return out;
  Rng rng(seed);
  for (size_t i = 0; i < limit; ++i) std::swap(out[i], out[i + rng.Uniform(out.size() - i)]);
  out.resize(limit);
  return out;
}

// Top-10 similar-account overlap and mean cosine between two tables over a
// sample of common accounts.
void MeasureDrift(const embed::EmbeddingTable& previous, const recall::VectorIndex& previous_index,
                  const embed::EmbeddingTable& current, const recall::VectorIndex& current_index, uint32_t sample,
                  uint64_t seed, BatchReport* r) {
  std::unordered_map<ExternalId, size_t> previous_row;
  for (size_t i = 0; i < previous.rows(); ++i)
    if (previous.kinds[i] == embed::TokenKind::kAccount) previous_row.emplace(previous.ids[i], i);
  std::vector<std::pair<size_t, size_t>> common;  // (previous row, current row)
  for (size_t i = 0; i < current.rows(); ++i)
    if (auto it = previous_row.find(current.ids[i]); it != previous_row.end()) common.emplace_back(it->second, i);
  if (common.empty() || previous.dim() != current.dim()) return;
  Rng rng(seed);
  const size_t n = std::min<size_t>(sample, common.size());
  for (size_t i = 0; i < n; ++i) std::swap(common[i], common[i + rng.Uniform(common.size() - i)]);
  double cosine_sum = 0, overlap_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto a = previous.input.Row(common[i].first), b = current.input.Row(common[i].second);
    double ab = 0, aa = 0, bb = 0;
    for (size_t x = 0; x < a.size(); ++x) {
      ab += static_cast<double>(a[x]) * b[x];
      aa += static_cast<double>(a[x]) * a[x];
      bb += static_cast<double>(b[x]) * b[x];
    }
    cosine_sum += aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0;
    auto top = [](const recall::VectorIndex& index, std::span<const float> query, ExternalId self) {
      std::vector<ExternalId> ids;
      for (const auto& s : index.Search(query, 11))
        if (index.id(s.item) != self && ids.size() < 10) ids.push_back(index.id(s.item));
      std::sort(ids.begin(), ids.end());
      return ids;
    };
    const ExternalId id = current.ids[common[i].second];
    const auto before = top(previous_index, a, id), after = top(current_index, b, id);
    std::vector<ExternalId> both;
    std::set_intersection(before.begin(), before.end(), after.begin(), after.end(), std::back_inserter(both));
    overlap_sum += before.empty() ? 0 : static_cast<double>(both.size()) / static_cast<double>(before.size());
  }
  r->drift_mean_cosine = cosine_sum / static_cast<double>(n);
  r->drift_neighbour_overlap = overlap_sum / static_cast<double>(n);
}

// Removes the oldest version directories (those with a manifest) beyond
// `keep`, never the live one.
void RemoveOldVersions(const std::string& artifacts_dir, uint32_t keep) {
  const std::string live = ReadCurrentVersion(artifacts_dir);
  std::vector<std::pair<fs::file_time_type, fs::path>> versions;
  for (const auto& entry : fs::directory_iterator(artifacts_dir))
    if (entry.is_directory() && fs::exists(entry.path() / kManifestFile))
      versions.emplace_back(fs::last_write_time(entry.path() / kManifestFile), entry.path());
  std::sort(versions.begin(), versions.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = keep; i < versions.size(); ++i) {
    if (versions[i].second.filename() == live) continue;
    spdlog::info("removing old version {}", versions[i].second.string());
    fs::remove_all(versions[i].second);
  }
}

}  // namespace

void BatchConfig::Validate() const {
  GR_CHECK(!input_dir.empty(), "input directory is empty");
  GR_CHECK(!artifacts_dir.empty(), "artifacts directory is empty");
  GR_CHECK(version.empty() || (version.find('/') == std::string::npos && version[0] != '.'),
           "version must be a plain directory name, got '", version, "'");
  GR_CHECK(holdout_fraction > 0 && holdout_fraction < 0.5, "holdout_fraction must be in (0, 0.5), got ",
           holdout_fraction);
  GR_CHECK(keep_versions >= 1, "keep_versions must be >= 1");
  GR_CHECK(recall_sample >= 1 && drift_sample >= 1, "samples must be >= 1");
  GR_CHECK(warm_learning_rate_scale > 0 && warm_learning_rate_scale <= 1,
           "warm_learning_rate_scale must be in (0, 1], got ", warm_learning_rate_scale);
  GR_CHECK(ranker_test_days >= 1, "ranker_test_days must be >= 1");
  GR_CHECK(min_ranker_click_auc >= 0 && min_ranker_click_auc <= 1, "min_ranker_click_auc must be in [0, 1]");
  walk.Validate();
  train.Validate();
  index.Validate();
  ranker.features.Validate();
  ranker.model.Validate();
  ranker.fusion.Validate();
  ranker.objective.Validate();
}

namespace {

// The in-progress batch: artifacts/.work holds the version being built and
// state.json records which stages finished, for which inputs and settings.
// A rerun with the same fingerprint resumes after the last finished stage;
// anything else starts over. When the version is complete the directory is
// renamed to its version name in one step, then CURRENT is replaced.
class WorkState {
 public:
  WorkState(std::string dir, std::string fingerprint) : dir_(std::move(dir)), fingerprint_(std::move(fingerprint)) {}

  // Loads the state if it matches the fingerprint; otherwise clears the
  // work directory. Returns the version being resumed ("" if none).
  std::string Open() {
    const fs::path state = fs::path(dir_) / "state.json";
    if (fs::exists(state)) {
      try {
        std::ifstream in(state);
        const nlohmann::json j = nlohmann::json::parse(in);
        if (j.at("fingerprint") == fingerprint_) {
          state_ = j;
          return j.at("version");
        }
        spdlog::info("inputs or settings changed since the interrupted run: starting over");
      } catch (const std::exception& e) {
        spdlog::warn("unreadable {} ({}): starting over", state.string(), e.what());
      }
    }
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    return "";
  }
  void Begin(const std::string& version) {
    state_ = {{"fingerprint", fingerprint_}, {"version", version}, {"done", nlohmann::json::object()}};
    Save();
  }
  bool Done(const std::string& stage) const { return state_.contains("done") && state_["done"].contains(stage); }
  const nlohmann::json& Result(const std::string& stage) const { return state_["done"][stage]; }
  void MarkDone(const std::string& stage, nlohmann::json result) {
    state_["done"][stage] = std::move(result);
    Save();
  }
  std::string Path(const char* file) const { return (fs::path(dir_) / file).string(); }

 private:
  void Save() const {
    WriteFileAtomically(Path("state.json"), [&](std::FILE* out) { std::fputs(state_.dump(2).c_str(), out); });
  }
  std::string dir_, fingerprint_;
  nlohmann::json state_;
};

// Crash tests set GR_BATCH_KILL_IN_STAGE=<stage>: the process SIGKILLs
// itself after that stage's work, before the stage is recorded as done.
void MaybeKillForTest(const std::string& stage) {
  const char* target = std::getenv("GR_BATCH_KILL_IN_STAGE");
  if (target != nullptr && stage == target) {
    spdlog::warn("GR_BATCH_KILL_IN_STAGE={}: killing this process", stage);
    std::raise(SIGKILL);
  }
}

// Exclusive lock on artifacts/.lock for the whole run: two batches must not
// build into the same work directory.
class BatchLock {
 public:
  explicit BatchLock(const std::string& artifacts_dir) {
    const std::string path = (fs::path(artifacts_dir) / ".lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    GR_CHECK_CODE(fd_ >= 0, ErrorCode::kIo, "cannot open ", path);
    GR_CHECK_CODE(::flock(fd_, LOCK_EX | LOCK_NB) == 0, ErrorCode::kInvalidArgument, "another graphrec batch is running on ",
                  artifacts_dir, " (", path, " is locked)");
  }
  ~BatchLock() { ::close(fd_); }
  BatchLock(const BatchLock&) = delete;
  BatchLock& operator=(const BatchLock&) = delete;

 private:
  int fd_ = -1;
};

// The ranker stage: trains on the impressions before the last test day(s)
// with features from the full graph (the batch's working copy dropped its
// interaction arrays, so the snapshot is reloaded) and the new vectors,
// scores the last day, and writes ranker.bin into the version.
template <typename Stage>
void TrainRankerStage(const BatchConfig& c, const std::string& impressions_file, const embed::EmbeddingTable& table,
                      WorkState& work, BatchReport& r, const Stage& stage) {
  const auto record = [&](const nlohmann::json& m) {
    r.has_ranker = true;
    r.ranker_train_impressions = m.at("train_impressions");
    r.ranker_test_impressions = m.at("test_impressions");
    r.ranker_auc_click = m.at("auc_click");
    r.ranker_auc_interaction = m.at("auc_interaction");
    r.ranker_gauc_click = m.at("gauc_click");
    r.ranker_dwell_rmse_log = m.at("dwell_rmse_log");
  };
  if (work.Done("rank")) {
    record(work.Result("rank"));
    return;
  }
  stage("ranker", [&] {
    const graph::SocialGraph full = graph::LoadSnapshot(work.Path(kGraphFile));
    graph::IngestConfig read;
    read.threads = c.walk.threads;
    ranking::TimeSplit split;
    {
      const std::vector<graph::Impression> impressions = graph::ReadImpressions(impressions_file, read);
      GR_CHECK(!impressions.empty(), impressions_file, " holds no impressions");
      split = ranking::SplitByTime(impressions, c.ranker_test_days, c.ranker_validation_days);
    }
    // Seeded samples bound the stage's time and memory (a feature row is ~1.6 KB at dim 128).
    const auto sample = [&](std::vector<graph::Impression>& rows, uint64_t max, uint64_t salt) {
      if (max == 0 || rows.size() <= max) return;
      Rng rng(MixSeed(c.ranker.model.seed, 0x73616d70ULL, salt));  // "samp"
      for (size_t i = 0; i < max; ++i) std::swap(rows[i], rows[i + rng.Uniform(rows.size() - i)]);
      rows.resize(max);
      rows.shrink_to_fit();
    };
    sample(split.train, c.ranker_max_train_impressions, 1);
    sample(split.validation, c.ranker_max_eval_impressions, 2);
    sample(split.test, c.ranker_max_eval_impressions, 3);
    ranking::RankerConfig config = c.ranker;
    config.model.threads = c.walk.threads;
    const ranking::FeatureSource features(full, table, config.features, {}, c.walk.threads);
    ranking::RankerTrainReport train_report;
    const ranking::Ranker ranker = ranking::Ranker::Train(features, split.train, split.validation, config, &train_report);
    spdlog::info("ranker trained: {}", train_report.ToText());
    std::vector<ranking::Outcome> outcomes;
    const ranking::Examples test = ranking::BuildExamples(features, split.test, c.walk.threads, &outcomes);
    GR_CHECK(test.size() > 0, "none of the ", split.test.size(), " impressions of the last ", c.ranker_test_days,
             " day(s) in ", impressions_file, " is known to the graph");
    const ranking::RankingMetrics m =
        ranking::EvaluateRanking(ranker.Predict(features, test, c.walk.threads), outcomes, ranker.fusion(), ranker.objective());
    ranker.Save(work.Path(kRankerFile));
    MaybeKillForTest("rank");
    const auto finite = [](double v) { return std::isnan(v) ? 0.0 : v; };  // no positives: fails the gate
    const nlohmann::json result = {{"train_impressions", train_report.train_examples}, {"test_impressions", test.size()},
                                   {"auc_click", finite(m.auc_click)}, {"auc_interaction", finite(m.auc_interaction)},
                                   {"gauc_click", finite(m.gauc_click)}, {"dwell_rmse_log", finite(m.dwell_rmse_log)}};
    work.MarkDone("rank", result);
    record(result);
  });
}

std::string ConfigJson(const BatchConfig& c) {
  return nlohmann::json{
      {"walk", {{"kind", static_cast<int>(c.walk.kind)}, {"direction", static_cast<int>(c.walk.direction)},
                {"walk_length", c.walk.walk_length}, {"walks_per_vertex", c.walk.walks_per_vertex}, {"p", c.walk.p},
                {"q", c.walk.q}, {"weighted", c.walk.weighted}, {"metapath", c.walk.metapath}, {"seed", c.walk.seed}}},
      {"train", {{"dim", c.train.dim}, {"window", c.train.window}, {"negatives", c.train.negatives},
                 {"epochs", c.train.epochs}, {"learning_rate", c.train.learning_rate},
                 {"warm_learning_rate_scale", c.warm_learning_rate_scale}, {"subsample", c.train.subsample}}},
      {"index", {{"kind", static_cast<int>(c.index.kind)}, {"m", c.index.m}, {"ef_construction", c.index.ef_construction},
                 {"ef_search", c.index.ef_search}, {"precision", recall::PrecisionName(c.index.precision)}}},
      {"warm_start", c.warm_start},
      {"holdout_fraction", c.holdout_fraction},
      {"recall_sample", c.recall_sample},
      {"drift_sample", c.drift_sample},
      {"ranker", {{"train", c.train_ranker}, {"features", ranking::FeatureGroupNames(c.ranker.features.groups)},
                  {"clusters", c.ranker.features.clusters}, {"architecture", ranking::ArchitectureName(c.ranker.model.architecture)},
                  {"experts", c.ranker.model.experts}, {"expert_units", c.ranker.model.expert_units},
                  {"tower_units", c.ranker.model.tower_units}, {"epochs", c.ranker.model.epochs},
                  {"learning_rate", c.ranker.model.learning_rate}, {"seed", c.ranker.model.seed},
                  {"test_days", c.ranker_test_days}, {"validation_days", c.ranker_validation_days},
                  {"max_train_impressions", c.ranker_max_train_impressions},
                  {"max_eval_impressions", c.ranker_max_eval_impressions}}},
      {"gate", {{"min_link_auc", c.min_link_auc}, {"min_hnsw_recall", c.min_hnsw_recall},
                {"min_neighbour_overlap", c.min_neighbour_overlap}, {"min_ranker_click_auc", c.min_ranker_click_auc}}}}
      .dump();
}

}  // namespace

BatchReport RunBatch(const BatchConfig& c) {
  c.Validate();
  fs::create_directories(c.artifacts_dir);
  const BatchLock lock(c.artifacts_dir);
  BatchReport r;
  r.previous_version = ReadCurrentVersion(c.artifacts_dir);
  auto stage = [&](const char* name, const auto& work) {
    spdlog::info("stage {}: start", name);
    const auto start = Clock::now();
    work();
    r.stages.push_back({name, std::chrono::duration<double>(Clock::now() - start).count()});
    spdlog::info("stage {}: done in {:.1f} s (peak RSS {:.0f} MB)", name, r.stages.back().seconds, PeakRssMb());
  };

  graph::InputFiles files{.follows = InputFile(c.input_dir, "follows.tsv"),
                          .interactions = InputFile(c.input_dir, "interactions.tsv"),
                          .posts = InputFile(c.input_dir, "posts.tsv")};
  GR_CHECK_CODE(!files.follows.empty(), ErrorCode::kNotFound, "no follows.tsv (or .gz) in ", c.input_dir);
  const std::string impressions_file = c.train_ranker ? InputFile(c.input_dir, "impressions.tsv") : "";
  nlohmann::json inputs = nlohmann::json::array();
  stage("checksum inputs", [&] {
    for (const std::string& path : {files.follows, files.interactions, files.posts, impressions_file}) {
      if (path.empty()) continue;
      uint64_t bytes = 0;
      const uint32_t crc = FileCrc(path, &bytes);
      inputs.push_back({{"path", path}, {"bytes", bytes}, {"crc32", crc}});
    }
  });
  // Resuming needs the same inputs, settings and starting version.
  const std::string fingerprint = inputs.dump() + ConfigJson(c) + "|" + r.previous_version;
  WorkState work((fs::path(c.artifacts_dir) / ".work").string(), std::to_string(Crc32(std::as_bytes(std::span(fingerprint.data(), fingerprint.size())))));
  const std::string resumed = work.Open();
  GR_CHECK(resumed.empty() || c.version.empty() || c.version == resumed, "an interrupted run of version ", resumed,
           " is pending in ", c.artifacts_dir, "/.work; rerun with --version ", resumed, " or without --version");
  r.version = !resumed.empty() ? resumed : c.version;
  if (r.version.empty()) {  // time-based; a suffix when two runs share a second
    r.version = TimeVersion();
    for (int n = 2; fs::exists(VersionPath(c.artifacts_dir, r.version)); ++n) r.version = TimeVersion() + "-" + std::to_string(n);
  }
  const std::string out = VersionPath(c.artifacts_dir, r.version);
  GR_CHECK(!fs::exists(out), "version directory ", out, " already exists; pick another --version");
  if (resumed.empty()) {
    work.Begin(r.version);
  } else {
    spdlog::info("resuming version {}: finished stages are skipped", r.version);
  }

  graph::SocialGraph g;
  if (work.Done("ingest")) {
    stage("ingest (resumed: load snapshot)", [&] { g = graph::LoadSnapshot(work.Path(kGraphFile)); });
  } else {
    stage("ingest", [&] {
      graph::IngestConfig ingest;
      ingest.threads = c.walk.threads;
      g = graph::Ingest(files, ingest);
      graph::SaveSnapshot(g, work.Path(kGraphFile));
      MaybeKillForTest("ingest");
      work.MarkDone("ingest", nlohmann::json::object());
    });
  }
  r.accounts = g.num_accounts();
  r.posts = g.num_posts();
  r.follow_edges = g.following.num_edges();
  r.interaction_edges = g.engagements.num_edges();

  graph::EdgeSplit split;
  stage("hold-out", [&] {
    split = graph::SplitEdgesForLinkPrediction(
        g, {.test_fraction = c.holdout_fraction, .order = graph::HoldOutOrder::kNewest, .seed = c.walk.seed});
  });
  r.held_out_edges = split.test_edges.size();
  // From here on split.train serves everything but the non-edge checks,
  // which need the full follow lists: drop g's other arrays (~1 GB at 1M).
  for (graph::CsrGraph* unused : {&g.followers, &g.engagements, &g.engagers, &g.authored}) *unused = {};
  g.post_author = {};
  g.post_time = {};

  std::unique_ptr<embed::EmbeddingTable> previous;
  std::unique_ptr<recall::VectorIndex> previous_accounts;
  if (!r.previous_version.empty()) {
    stage("load previous", [&] {
      const std::string dir = VersionPath(c.artifacts_dir, r.previous_version);
      previous = std::make_unique<embed::EmbeddingTable>(embed::LoadEmbeddings(dir + "/" + kAccountsEmbeddingFile));
      previous_accounts = recall::VectorIndex::Load(dir + "/accounts.hnsw");
    });
  }

  embed::EmbeddingTable table;
  if (work.Done("train")) {
    stage("train (resumed: load vectors)", [&] { table = embed::LoadEmbeddings(work.Path(kAccountsEmbeddingFile)); });
    r.warm_started_accounts = work.Result("train").value("warm_started_accounts", uint64_t{0});
  } else {
    stage("walks + training", [&] {
      std::unique_ptr<embed::WarmStart> warm;
      embed::SkipGramConfig train = c.train;
      if (c.warm_start && previous != nullptr && previous->dim() == c.train.dim) {
        warm = std::make_unique<embed::WarmStart>(embed::MakeWarmStart(*previous, split.train));
        r.warm_started_accounts = warm->copied;
        train.learning_rate *= c.warm_learning_rate_scale;
      }
      table = embed::EmbedWalks(split.train, c.walk, train, nullptr, warm.get());
      embed::SaveEmbeddings(table, work.Path(kAccountsEmbeddingFile), ConfigJson(c));
      MaybeKillForTest("train");
      work.MarkDone("train", {{"warm_started_accounts", r.warm_started_accounts}});
    });
  }

  recall::RecallIndexes indexes;
  if (work.Done("index")) {
    stage("index (resumed: load)", [&] { indexes = recall::LoadRecallIndexes(work.Path(""), table.dim()); });
  } else {
    stage("index", [&] {
      indexes = recall::BuildRecallIndexes(split.train, table, c.index);
      recall::SaveRecallIndexes(indexes, work.Path(""));
      MaybeKillForTest("index");
      work.MarkDone("index", nlohmann::json::object());
    });
  }

  if (work.Done("evaluate")) {
    const auto& m = work.Result("evaluate");
    r.link_auc_dot = m.at("link_auc_dot");
    r.link_auc_hadamard = m.at("link_auc_hadamard");
    r.hnsw_recall_at_10 = m.at("hnsw_recall_at_10");
    r.drift_mean_cosine = m.at("drift_mean_cosine");
    r.drift_neighbour_overlap = m.at("drift_neighbour_overlap");
  } else {
    stage("evaluate", [&] {
      const std::vector<graph::VertexPair> train_edges = graph::FollowPairs(split.train);
      constexpr size_t kMaxPairs = 50000;  // logistic regression sample; plenty for an AUC
      const auto train = SamplePairs(train_edges, kMaxPairs, c.walk.seed + 1);
      const auto test = SamplePairs(split.test_edges, kMaxPairs, c.walk.seed + 2);
      const auto test_non = SamplePairs(split.test_non_edges, test.size(), c.walk.seed + 3);
      const auto sampled_non = graph::SampleNonEdges(g, train.size(), c.walk.seed + 4, split.test_non_edges);
      const std::vector<embed::RowPair> train_non(sampled_non.begin(), sampled_non.end());
      if (!test.empty()) {
        const auto lp = embed::LinkPrediction(table.input, train, train_non, test, test_non);
        r.link_auc_dot = lp.dot_auc;
        r.link_auc_hadamard = lp.hadamard_auc;
      }
      // HNSW against exact on a sample of accounts.
      const recall::VectorIndex& hnsw = *indexes.accounts;
      if (c.index.kind == recall::IndexKind::kHnsw) {
        recall::IndexConfig exact_config = c.index;
        exact_config.kind = recall::IndexKind::kExact;
        // Usually the accounts index holds every table row in order, and the
        // exact index is built from the table itself (no extra 0.5 GB copy at 1M).
        FloatMatrix copied;
        const bool same_rows = hnsw.size() == table.rows() &&
                               std::equal(hnsw.ids().begin(), hnsw.ids().end(), table.ids.begin());
        if (!same_rows) {
          copied = FloatMatrix(hnsw.size(), table.dim());
          for (uint32_t i = 0; i < hnsw.size(); ++i) {
            const auto v = hnsw.Vector(i);
            std::copy(v.begin(), v.end(), copied.Row(i).begin());
          }
        }
        const FloatMatrix& vectors = same_rows ? table.input : copied;
        const auto exact = recall::VectorIndex::Build({hnsw.ids().begin(), hnsw.ids().end()}, vectors, exact_config);
        const size_t n = std::min<size_t>(c.recall_sample, hnsw.size());
        FloatMatrix queries(n, table.dim());
        Rng rng(c.walk.seed + 6);
        for (size_t i = 0; i < n; ++i) {
          const auto row = vectors.Row(rng.Uniform(hnsw.size()));
          std::copy(row.begin(), row.end(), queries.Row(i).begin());
        }
        r.hnsw_recall_at_10 = recall::RecallAtK(hnsw, *exact, queries, 10);
      } else {
        r.hnsw_recall_at_10 = 1.0;
      }
      if (previous != nullptr && previous_accounts != nullptr)
        MeasureDrift(*previous, *previous_accounts, table, hnsw, c.drift_sample, c.walk.seed + 7, &r);
      MaybeKillForTest("evaluate");
      work.MarkDone("evaluate", {{"link_auc_dot", r.link_auc_dot}, {"link_auc_hadamard", r.link_auc_hadamard},
                                 {"hnsw_recall_at_10", r.hnsw_recall_at_10}, {"drift_mean_cosine", r.drift_mean_cosine},
                                 {"drift_neighbour_overlap", r.drift_neighbour_overlap}});
    });
  }

  if (!impressions_file.empty()) {
    // The ranker stage needs the full snapshot and the new vectors only:
    // free the hold-out copy, the indices (saved) and the previous version first.
    split = {};
    indexes = {};
    previous.reset();
    previous_accounts.reset();
    g = {};
    TrainRankerStage(c, impressions_file, table, work, r, stage);
  }

  if (r.link_auc_hadamard < c.min_link_auc)
    r.gate_failures.push_back(StrCat("link-prediction AUC ", r.link_auc_hadamard, " < ", c.min_link_auc));
  if (r.hnsw_recall_at_10 < c.min_hnsw_recall)
    r.gate_failures.push_back(StrCat("HNSW recall@10 ", r.hnsw_recall_at_10, " < ", c.min_hnsw_recall));
  if (r.has_ranker && r.ranker_auc_click < c.min_ranker_click_auc)
    r.gate_failures.push_back(StrCat("ranker click AUC ", r.ranker_auc_click, " < ", c.min_ranker_click_auc));
  if (c.min_neighbour_overlap > 0 && r.drift_neighbour_overlap >= 0 &&
      r.drift_neighbour_overlap < c.min_neighbour_overlap)
    r.gate_failures.push_back(
        StrCat("top-10 neighbour overlap with ", r.previous_version, " ", r.drift_neighbour_overlap, " < ",
               c.min_neighbour_overlap));

  stage("publish", [&] {
    r.peak_rss_mb = PeakRssMb();
    r.published = r.gate_failures.empty();
    nlohmann::json manifest = nlohmann::json::parse(r.ToJson());
    manifest["inputs"] = inputs;
    manifest["parameters"] = nlohmann::json::parse(ConfigJson(c));
    manifest["formats"] = {{"graph.snap", 1}, {"accounts.emb", 1}, {"*.hnsw", 1}};
    if (r.has_ranker) manifest["formats"][kRankerFile] = 1;
    WriteFileAtomically(work.Path(kManifestFile), [&](std::FILE* f) { std::fputs(manifest.dump(2).c_str(), f); });
    fs::remove(work.Path("state.json"));
    // The complete version appears under its name in one rename.
    RenameAndSync((fs::path(c.artifacts_dir) / ".work").string(), out);
    MaybeKillForTest("publish");
    if (r.published) PublishVersion(c.artifacts_dir, r.version);
  });
  if (!r.published) {
    spdlog::error("quality gate failed, {} not published ({} stays live): {}", r.version,
                  r.previous_version.empty() ? "nothing" : r.previous_version, r.gate_failures.front());
    return r;
  }
  spdlog::info("published {}", r.version);
  RemoveOldVersions(c.artifacts_dir, c.keep_versions);
  return r;
}

std::string BatchReport::ToJson() const {
  nlohmann::json stage_times = nlohmann::json::object();
  double total = 0;
  for (const auto& s : stages) {
    stage_times[s.stage] = s.seconds;
    total += s.seconds;
  }
  nlohmann::json j = {
      {"version", version},
      {"previous_version", previous_version},
      {"published", published},
      {"gate_failures", gate_failures},
      {"counts", {{"accounts", accounts}, {"posts", posts}, {"follow_edges", follow_edges},
                  {"interaction_edges", interaction_edges}, {"held_out_edges", held_out_edges},
                  {"warm_started_accounts", warm_started_accounts}}},
      {"metrics", {{"link_auc_dot", link_auc_dot}, {"link_auc_hadamard", link_auc_hadamard},
                   {"hnsw_recall_at_10", hnsw_recall_at_10}}},
      {"stage_seconds", stage_times},
      {"total_seconds", total},
      {"peak_rss_mb", peak_rss_mb}};
  if (has_ranker) {
    j["ranker"] = {{"train_impressions", ranker_train_impressions}, {"test_impressions", ranker_test_impressions},
                   {"auc_click", ranker_auc_click}, {"auc_interaction", ranker_auc_interaction},
                   {"gauc_click", ranker_gauc_click}, {"dwell_rmse_log", ranker_dwell_rmse_log}};
  }
  if (drift_mean_cosine > -2) {
    j["metrics"]["drift_mean_cosine"] = drift_mean_cosine;
    j["metrics"]["drift_neighbour_overlap"] = drift_neighbour_overlap;
  }
  return j.dump();
}

std::string BatchReport::ToText() const {
  std::string text = StrCat("version ", version, published ? " published" : " NOT published",
                            previous_version.empty() ? "" : StrCat(" (previous: ", previous_version, ")"), "\n");
  for (const auto& f : gate_failures) text += StrCat("  gate failed: ", f, "\n");
  text += StrCat("graph: ", accounts, " accounts, ", posts, " posts, ", follow_edges, " follow edges, ",
                 interaction_edges, " interaction edges; ", held_out_edges, " newest follows held out\n");
  if (warm_started_accounts > 0) text += StrCat("warm start: ", warm_started_accounts, " accounts from the previous version\n");
  char metrics[512];
  std::snprintf(metrics, sizeof metrics, "link prediction AUC (newest follows): dot %.4f, Hadamard %.4f\n"
                "HNSW recall@10 vs exact: %.4f\n", link_auc_dot, link_auc_hadamard, hnsw_recall_at_10);
  text += metrics;
  if (has_ranker) {
    std::snprintf(metrics, sizeof metrics,
                  "ranker (last day, %llu impressions; trained on %llu): click AUC %.4f, interaction AUC %.4f, "
                  "click GAUC %.4f, dwell RMSE (log) %.4f\n",
                  static_cast<unsigned long long>(ranker_test_impressions),
                  static_cast<unsigned long long>(ranker_train_impressions), ranker_auc_click, ranker_auc_interaction,
                  ranker_gauc_click, ranker_dwell_rmse_log);
    text += metrics;
  }
  if (drift_mean_cosine > -2) {
    std::snprintf(metrics, sizeof metrics, "drift vs %s: mean cosine %.4f, top-10 neighbour overlap %.4f\n",
                  previous_version.c_str(), drift_mean_cosine, drift_neighbour_overlap);
    text += metrics;
  }
  double total = 0;
  for (const auto& s : stages) {
    std::snprintf(metrics, sizeof metrics, "  %-18s %8.1f s\n", s.stage.c_str(), s.seconds);
    text += metrics;
    total += s.seconds;
  }
  std::snprintf(metrics, sizeof metrics, "  %-18s %8.1f s, peak RSS %.0f MB\n", "total", total, peak_rss_mb);
  return text + metrics;
}

}  // namespace gr::pipeline
