#include "pipeline/batch.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "core/binary_io.h"
#include "core/error.h"
#include "core/process_memory.h"
#include "pipeline/internal/batch_run.h"
#include "version/layout.h"
#include "version/version_store.h"

namespace gr::pipeline {
namespace {

namespace fs = std::filesystem;
using internal::BatchRun;

// Path, size and CRC-32 of each input: recorded in the manifest and part of
// the resume fingerprint.
nlohmann::json ChecksumInputs(const std::vector<std::string>& paths) {
  nlohmann::json inputs = nlohmann::json::array();
  for (const std::string& path : paths) {
    if (path.empty()) continue;
    uint64_t bytes = 0;
    const uint32_t crc = internal::FileCrc(path, &bytes);
    inputs.push_back({{"path", path}, {"bytes", bytes}, {"crc32", crc}});
  }
  return inputs;
}

// The version this run builds: the interrupted one it resumes, the one asked
// for, or a new time-based name (a suffix when two runs share a second).
std::string ChooseVersion(const BatchConfig& c, const std::string& resumed) {
  GR_CHECK(resumed.empty() || c.version.empty() || c.version == resumed, "an interrupted run of version ", resumed,
           " is pending in ", version::PathIn(c.artifacts_dir, version::kWorkDir), "; rerun with --version ",
           resumed, " or without --version");
  if (!resumed.empty()) return resumed;
  if (!c.version.empty()) return c.version;
  std::string name = internal::TimeVersion();
  for (int n = 2; fs::exists(version::VersionDir(c.artifacts_dir, name)); ++n)
    name = internal::TimeVersion() + "-" + std::to_string(n);
  return name;
}

}  // namespace

void internal::RunStage(BatchReport& report, const char* name, const std::function<void()>& body) {
  spdlog::info("stage {}: start", name);
  const auto start = std::chrono::steady_clock::now();
  body();
  report.stages.push_back({name, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
  spdlog::info("stage {}: done in {:.1f} s (peak RSS {:.0f} MB)", name, report.stages.back().seconds,
               PeakRssMb());
}

BatchReport RunBatch(const BatchConfig& config, const BatchHooks& hooks) {
  config.Validate();
  const BatchConfig c = config.WithRunOptions();
  fs::create_directories(c.artifacts_dir);
  const internal::BatchLock lock(c.artifacts_dir);
  BatchReport r;
  try {
    r.previous_version = version::ReadCurrentVersion(c.artifacts_dir);
  } catch (const Error& e) {
    r.previous_version_error = e.what();
    spdlog::warn("{}: this run replaces it", e.what());
  }

  const graph::InputFiles files = graph::InputFilesIn(c.input_dir);
  const std::string impressions_file = c.train_ranker ? graph::InputFileIn(c.input_dir, "impressions.tsv") : "";
  nlohmann::json inputs;
  internal::RunStage(r, "checksum inputs", [&] {
    inputs = ChecksumInputs({files.follows, files.interactions, files.posts, impressions_file});
  });

  // Resuming needs the same inputs, settings and starting version.
  const std::string fingerprint = inputs.dump() + c.ToJson() + "|" + r.previous_version;
  internal::WorkState work(version::PathIn(c.artifacts_dir, version::kWorkDir),
                           std::to_string(Crc32(std::as_bytes(std::span(fingerprint.data(), fingerprint.size())))));
  const std::string resumed = work.Open();
  r.version = ChooseVersion(c, resumed);
  const std::string version_dir = version::VersionDir(c.artifacts_dir, r.version);
  GR_CHECK(!fs::exists(version_dir), "version directory ", version_dir, " already exists; pick another --version");
  if (resumed.empty()) {
    work.Begin(r.version);
  } else {
    spdlog::info("resuming version {}: finished stages are skipped", r.version);
  }
  BatchRun run{c, hooks, r, work};

  std::unique_ptr<BatchGraph> graph =
      hooks.make_graph ? hooks.make_graph(c) : MakeLocalBatchGraph(hooks, c.fold_in_held_out);
  const GraphSummary summary = internal::IngestStage(run, *graph, files);
  r.accounts = summary.accounts;
  r.posts = summary.posts;
  r.follow_edges = summary.follow_edges;
  r.interaction_edges = summary.interaction_edges;
  internal::HoldOutStage(run, *graph);
  internal::PreviousVersion previous = internal::LoadPreviousStage(run);
  const embed::EmbeddingTable table = internal::TrainStage(run, *graph, previous);
  if (previous.table != nullptr) previous.table->output = FloatMatrix();  // only warm start needed it
  recall::RecallIndexes indexes = internal::IndexStage(run, *graph, table);
  graph.reset();
  internal::EvaluateStage(run, table, indexes, previous);
  if (!impressions_file.empty()) {
    // The ranker stage needs the full snapshot and the new vectors only:
    // free the indices (saved) and the previous version first.
    indexes = {};
    previous = {};
    graph::SocialGraph full;
    internal::RunStage(r, "reload graph", [&] { full = version::LoadGraph(work.dir()); });
    internal::RankerStage(run, impressions_file, full, table);
    if (c.train_consistent_recall) internal::ConsistentRecallStage(run, impressions_file, full, table);
    if (c.consistency.accounts > 0) internal::ConsistencyStage(run, full, table);
  }
  r.gate_failures = internal::GateFailures(c, r);
  internal::PublishStage(run, inputs, version_dir, summary.degrees, table);

  if (!r.published) {
    spdlog::error("quality gate failed, {} not published ({} stays live): {}", r.version,
                  r.previous_version.empty() ? "nothing" : r.previous_version, r.gate_failures.front());
    return r;
  }
  spdlog::info("published {}", r.version);
  version::RemoveOldVersions(c.artifacts_dir, c.keep_versions);
  return r;
}

}  // namespace gr::pipeline
