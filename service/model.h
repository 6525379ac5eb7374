// What the server answers from: one immutable loaded artifact version
// (Model), and the ModelSource that holds the live one and swaps in newly
// published versions in the background.
//
// Requests take a shared_ptr to the live Model at their start, so a swap
// never pulls data from under a request in flight: the old version is freed
// when its last request finishes. A version that fails to load is logged,
// counted and skipped (the old one stays live) until CURRENT changes again.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "core/shard.h"
#include "embed/embedding_table.h"
#include "graph/social_graph.h"
#include "ranking/consistent_recall.h"
#include "ranking/ranker.h"
#include "recall/recall.h"

namespace gr::service {

struct Model {
  std::string version;
  Shard shard;  // the index shard loaded (whole for an unsharded server)
  std::string manifest_json;  // "" if the version has none
  int64_t loaded_at_unix_ms = 0;
  graph::SocialGraph graph;
  embed::EmbeddingTable table;
  recall::RecallIndexes indexes;
  std::unique_ptr<recall::Recaller> recaller;
  std::unordered_map<ExternalId, size_t> account_row;  // table row of each account
  // The popularity fallback's lists (kPopularItems each) for accounts
  // without a vector yet.
  recall::PopularItems popular;
  static constexpr size_t kPopularItems = 4096;
  // The version's ranker (ranker.bin) and the features it reads; both null
  // when the version has none (Rank answers UNIMPLEMENTED).
  std::unique_ptr<ranking::Ranker> ranker;
  std::unique_ptr<ranking::FeatureSource> features;
  // The ranker-consistent recall towers (RECALL_SOURCE_CONSISTENT); null
  // when the version has none.
  std::unique_ptr<ranking::ConsistentRecall> consistent_recall;

  // Loads artifacts_dir/version (version/version_store.h); ef_search >
  // 0 overrides the HNSW search depth stored in the indices. Throws
  // gr::Error naming the file that is missing or damaged.
  static std::shared_ptr<const Model> Load(const std::string& artifacts_dir, const std::string& version,
                                           uint32_t ef_search = 0, Shard shard = {});
};

class ModelSource {
 public:
  // Loads nothing yet: LoadFirst does (the server listens, NOT_SERVING,
  // while it loads).
  // A shard other than the whole loads that index shard of each version.
  ModelSource(std::string artifacts_dir, std::chrono::milliseconds poll_interval, uint32_t ef_search = 0,
              Shard shard = {});
  ~ModelSource();  // stops the watcher
  ModelSource(const ModelSource&) = delete;
  ModelSource& operator=(const ModelSource&) = delete;

  // Loads the live version (through OnNewModel's callback); throws if there
  // is none or it fails to load (a server must not serve nothing).
  void LoadFirst();

  // The live model; null until LoadFirst returned.
  std::shared_ptr<const Model> Get() const { return live_.load(); }

  // Called with each newly loaded model before it goes live (the live
  // events build their graph on it); if it throws, the version counts as
  // failed to load and the old one stays live. Set before StartWatching.
  void OnNewModel(std::function<void(const std::shared_ptr<const Model>&)> prepare) {
    prepare_ = std::move(prepare);
  }

  // Starts polling CURRENT every poll_interval on a background thread
  // (after LoadFirst).
  void StartWatching();
  // One poll: loads and swaps in CURRENT's version if it is new and not
  // known to fail. Returns true if a new version went live.
  bool Poll();

  uint64_t reloads() const { return reloads_.load(); }
  uint64_t failed_reloads() const { return failed_reloads_.load(); }

 private:
  const std::string artifacts_dir_;
  const std::chrono::milliseconds poll_interval_;
  const uint32_t ef_search_;
  const Shard shard_;
  std::atomic<std::shared_ptr<const Model>> live_;
  std::function<void(const std::shared_ptr<const Model>&)> prepare_;
  std::string failed_version_;  // last version that failed; not retried until CURRENT changes
  std::atomic<uint64_t> reloads_{0}, failed_reloads_{0};
  std::mutex poll_mutex_;  // serialises Poll (and failed_version_)
  std::mutex mutex_;       // guards stop_
  std::condition_variable stop_signal_;
  bool stop_ = false;
  std::thread watcher_;
};

}  // namespace gr::service
