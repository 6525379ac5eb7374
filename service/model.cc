#include "service/model.h"

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "version/version_store.h"

namespace gr::service {

std::shared_ptr<const Model> Model::Load(const std::string& artifacts_dir, const std::string& version,
                                         uint32_t ef_search, Shard shard) {
  version::LoadedVersion loaded = version::LoadVersion(artifacts_dir, version, shard);
  auto model = std::make_shared<Model>();
  model->version = std::move(loaded.version);
  model->shard = shard;
  model->manifest_json = std::move(loaded.manifest_json);
  model->graph = std::move(loaded.graph);
  model->table = std::move(loaded.table);
  model->indexes = std::move(loaded.indexes);
  model->ranker = std::move(loaded.ranker);
  model->consistent_recall = std::move(loaded.consistent_recall);
  if (ef_search > 0) model->indexes.SetEfSearch(ef_search);
  model->recaller = std::make_unique<recall::Recaller>(model->graph, model->table, model->indexes);
  for (size_t r = 0; r < model->table.rows(); ++r)
    if (model->table.kinds[r] == embed::TokenKind::kAccount) model->account_row.emplace(model->table.ids[r], r);
  model->popular = recall::FindPopularItems(model->graph, Model::kPopularItems);
  if (model->ranker != nullptr) {
    model->features = std::make_unique<ranking::FeatureSource>(model->graph, model->table,
                                                               model->ranker->feature_config(),
                                                               model->ranker->centroids());
  }
  model->loaded_at_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  return model;
}

ModelSource::ModelSource(std::string artifacts_dir, std::chrono::milliseconds poll_interval, uint32_t ef_search,
                         Shard shard)
    : artifacts_dir_(std::move(artifacts_dir)), poll_interval_(poll_interval), ef_search_(ef_search), shard_(shard) {}

void ModelSource::LoadFirst() {
  std::lock_guard lock(poll_mutex_);
  const auto start = std::chrono::steady_clock::now();
  const std::string version = version::ReadCurrentVersion(artifacts_dir_);
  GR_CHECK_CODE(!version.empty(), ErrorCode::kNotFound, "no ", version::kCurrentFile, " in ", artifacts_dir_,
                ": nothing is published yet (run graphrec batch)");
  std::shared_ptr<const Model> model = Model::Load(artifacts_dir_, version, ef_search_, shard_);
  if (prepare_) prepare_(model);
  live_.store(std::move(model));
  spdlog::info("serving version {} from {}, loaded in {:.2f} s", version, artifacts_dir_,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

ModelSource::~ModelSource() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stop_signal_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

void ModelSource::StartWatching() {
  watcher_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stop_signal_.wait_for(lock, poll_interval_, [this] { return stop_; })) {
      lock.unlock();
      Poll();
      lock.lock();
    }
  });
}

bool ModelSource::Poll() {
  std::lock_guard lock(poll_mutex_);  // one load at a time, also when tests poll by hand
  std::string version;
  try {
    version = version::ReadCurrentVersion(artifacts_dir_);
  } catch (const std::exception& e) {
    spdlog::warn("cannot read {}: {}", version::kCurrentFile, e.what());
    return false;
  }
  if (live_.load() == nullptr || version.empty() || version == live_.load()->version || version == failed_version_)
    return false;
  const auto start = std::chrono::steady_clock::now();
  try {
    std::shared_ptr<const Model> model = Model::Load(artifacts_dir_, version, ef_search_, shard_);
    if (prepare_) prepare_(model);
    const std::string old = live_.load()->version;
    live_.store(std::move(model));
    ++reloads_;
    failed_version_.clear();
    spdlog::info("version {} is live (was {}), loaded in {:.2f} s", version, old,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return true;
  } catch (const std::exception& e) {
    failed_version_ = version;
    ++failed_reloads_;
    spdlog::error("version {} failed to load, {} stays live: {}", version, live_.load()->version, e.what());
    return false;
  }
}

}  // namespace gr::service
