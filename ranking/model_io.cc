// ModelConfig's checks and JSON form, task and architecture names, the
// examples' per-task sample spaces, and the model's on-disk sections.
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "ranking/internal/network.h"
#include "ranking/model.h"

namespace gr::ranking {
namespace {

using internal::kAllTasks;
using internal::Layout;
using internal::Network;

nlohmann::json ConfigToJson(const ModelConfig& c) {
  return {{"architecture", ArchitectureName(c.architecture)}, {"experts", c.experts}, {"expert_units", c.expert_units},
          {"task_experts", c.task_experts}, {"levels", c.levels}, {"sparsity", c.sparsity},
          {"tower_units", c.tower_units}, {"cluster_dim", c.cluster_dim}, {"epochs", c.epochs},
          {"batch_size", c.batch_size}, {"learning_rate", c.learning_rate}, {"l2", c.l2},
          {"task_weights", c.task_weights}, {"uncertainty_weighting", c.uncertainty_weighting}, {"seed", c.seed}};
}

ModelConfig ConfigFromJson(const nlohmann::json& j) {
  ModelConfig c;
  const auto architecture = ParseArchitecture(j.at("architecture").get<std::string>());
  GR_CHECK_CODE(architecture.has_value(), ErrorCode::kCorruption, "unknown architecture in the model");
  c.architecture = *architecture;
  c.experts = j.at("experts");
  c.expert_units = j.at("expert_units");
  c.task_experts = j.at("task_experts");
  c.levels = j.at("levels");
  c.sparsity = j.at("sparsity");
  c.uncertainty_weighting = j.at("uncertainty_weighting");
  c.tower_units = j.at("tower_units");
  c.cluster_dim = j.at("cluster_dim");
  c.epochs = j.at("epochs");
  c.batch_size = j.at("batch_size");
  c.learning_rate = j.at("learning_rate");
  c.l2 = j.at("l2");
  c.task_weights = j.at("task_weights");
  c.seed = j.at("seed");
  return c;
}

}  // namespace

std::string ModelConfig::ToJson() const { return ConfigToJson(*this).dump(); }

namespace {
constexpr const char* kTaskNames[kNumTasks] = {"click", "interaction", "dwell", "negative", "profile_visit", "completion"};
}  // namespace

const char* TaskName(int task) { return task >= 0 && task < kNumTasks ? kTaskNames[task] : "?"; }

std::optional<int> ParseTask(std::string_view name) {
  for (int t = 0; t < kNumTasks; ++t)
    if (name == kTaskNames[t]) return t;
  return std::nullopt;
}

const char* ArchitectureName(Architecture architecture) {
  switch (architecture) {
    case Architecture::kMmoe: return "mmoe";
    case Architecture::kSharedBottom: return "shared-bottom";
    case Architecture::kSingleTask: return "single-task";
    case Architecture::kPle: return "ple";
    case Architecture::kSnr: return "snr";
  }
  return "?";
}

std::optional<Architecture> ParseArchitecture(std::string_view name) {
  for (const Architecture a : kAllArchitectures)
    if (name == ArchitectureName(a)) return a;
  return std::nullopt;
}

std::string ArchitectureNames() {
  std::string names;
  for (size_t i = 0; i < std::size(kAllArchitectures); ++i)
    names += StrCat(i == 0 ? "" : i + 1 == std::size(kAllArchitectures) ? " or " : ", ", ArchitectureName(kAllArchitectures[i]));
  return names;
}

void ModelConfig::Validate() const {
  GR_CHECK(experts >= 1 && experts <= 64, "experts must be in [1, 64], got ", experts);
  GR_CHECK(expert_units >= 1 && expert_units <= 4096, "expert_units must be in [1, 4096], got ", expert_units);
  GR_CHECK(task_experts >= 1 && task_experts <= 64, "task_experts must be in [1, 64], got ", task_experts);
  GR_CHECK(levels >= 1 && levels <= 8, "levels must be in [1, 8], got ", levels);
  GR_CHECK(sparsity >= 0 && std::isfinite(sparsity), "sparsity must be >= 0, got ", sparsity);
  GR_CHECK(tower_units >= 1 && tower_units <= 4096, "tower_units must be in [1, 4096], got ", tower_units);
  GR_CHECK(cluster_dim >= 1 && cluster_dim <= 256, "cluster_dim must be in [1, 256], got ", cluster_dim);
  GR_CHECK(epochs >= 1, "epochs must be >= 1");
  GR_CHECK(batch_size >= 1 && batch_size <= 65536, "batch_size must be in [1, 65536], got ", batch_size);
  GR_CHECK(learning_rate > 0 && std::isfinite(learning_rate), "learning_rate must be > 0, got ", learning_rate);
  GR_CHECK(l2 >= 0 && std::isfinite(l2), "l2 must be >= 0, got ", l2);
  for (const float w : task_weights) GR_CHECK(w >= 0 && std::isfinite(w), "task weights must be >= 0, got ", w);
}

void Examples::Reserve(size_t n) {
  dense.reserve(n * dense_dim);
  clusters.reserve(n * cluster_slots);
  clicked.reserve(n);
  interacted.reserve(n);
  dwell_seconds.reserve(n);
  negative.reserve(n);
  profile_visit.reserve(n);
  completed.reserve(n);
}

bool Examples::Observed(size_t i, int task) const {
  switch (task) {
    case kClickTask:
    case kInteractionTask: return true;
    case kDwellTask: return clicked[i] != 0;
    case kNegativeTask: return !negative.empty() && negative[i] != kUnobserved;
    case kProfileVisitTask: return !profile_visit.empty() && profile_visit[i] != kUnobserved;
    case kCompletionTask: return !completed.empty() && clicked[i] != 0 && completed[i] != kUnobserved;
  }
  return false;
}

double Examples::Target(size_t i, int task) const {
  switch (task) {
    case kClickTask: return clicked[i];
    case kInteractionTask: return interacted[i];
    case kDwellTask: return std::log1p(std::max(0.0f, dwell_seconds[i]));
    case kNegativeTask: return negative[i];
    case kProfileVisitTask: return profile_visit[i];
    case kCompletionTask: return completed[i];
  }
  return 0;
}

void MultiTaskModel::Save(SectionWriter& writer) const {
  nlohmann::json j = ConfigToJson(config_);
  j["cluster_slots"] = cluster_slots_;
  j["cluster_rows"] = cluster_rows_;
  j["loss_weights"] = loss_weights_;
  j["networks"] = nlohmann::json::array();
  for (const Network& net : networks_)
    j["networks"].push_back({{"task_mask", net.task_mask}, {"architecture", ArchitectureName(net.architecture)},
                             {"experts", net.experts}, {"expert_units", net.expert_units},
                             {"task_experts", net.task_experts}, {"levels", net.levels}});
  writer.AddString("model.config", j.dump());
  writer.Add("model.mean", mean_);
  writer.Add("model.inv_std", inv_std_);
  for (size_t k = 0; k < networks_.size(); ++k) writer.Add(StrCat("model.network", k), std::span<const float>(networks_[k].params));
}

MultiTaskModel MultiTaskModel::Load(SectionReader& reader) {
  MultiTaskModel model;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(reader.ReadString("model.config"));
    model.config_ = ConfigFromJson(j);
    model.config_.Validate();
    model.cluster_slots_ = j.at("cluster_slots");
    model.cluster_rows_ = j.at("cluster_rows");
    model.loss_weights_ = j.at("loss_weights");
    for (const auto& net : j.at("networks")) {
      const auto architecture = ParseArchitecture(net.at("architecture").get<std::string>());
      if (!architecture) reader.Fail("unknown network architecture");
      model.networks_.push_back({net.at("task_mask"), *architecture, net.at("experts"), net.at("expert_units"),
                                 net.at("task_experts"), net.at("levels"), {}});
    }
  } catch (const nlohmann::json::exception& e) {
    reader.Fail(StrCat("bad model configuration: ", e.what()));
  } catch (const Error& e) {
    reader.Fail(StrCat("bad model configuration: ", e.what()));
  }
  model.mean_ = reader.Read<float>("model.mean");
  model.inv_std_ = reader.Read<float>("model.inv_std");
  if (model.inv_std_.size() != model.mean_.size()) reader.Fail("model.inv_std has the wrong size");
  if (model.networks_.empty() || model.networks_.size() > kNumTasks) reader.Fail("bad network count");
  uint32_t tasks = 0;
  for (size_t k = 0; k < model.networks_.size(); ++k) {
    Network& net = model.networks_[k];
    if (net.experts < 1 || net.experts > 64 || net.expert_units < 1 || net.expert_units > 1u << 16 ||
        net.task_experts < 1 || net.task_experts > 64 || net.levels < 1 || net.levels > 8 ||
        net.task_mask == 0 || (net.task_mask & ~kAllTasks) != 0 || (tasks & net.task_mask) != 0)
      reader.Fail("bad network description");
    tasks |= net.task_mask;
    const std::vector<float> params = reader.Read<float>(StrCat("model.network", k));
    net.params.assign(params.begin(), params.end());
    const Layout l(net, model.mean_.size(), model.cluster_slots_, model.config_.cluster_dim, model.cluster_rows_,
                   model.config_.tower_units);
    if (net.params.size() != l.total) reader.Fail(StrCat("model.network", k, " has ", net.params.size(), " weights, expected ", l.total));
  }
  if (tasks != kAllTasks) reader.Fail(StrCat("the networks do not cover the ", kNumTasks, " tasks"));
  return model;
}

}  // namespace gr::ranking
