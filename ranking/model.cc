#include "ranking/model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/progress.h"
#include "ranking/internal/network.h"

namespace gr::ranking {
namespace {

using internal::AlignedFloats;
using internal::Forward;
using internal::kChunk;
using internal::Layout;
using internal::Network;
using internal::RunBackward;
using internal::RunForward;

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
// log(1 + exp(x)) without overflow.
double Softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

nlohmann::json ConfigToJson(const ModelConfig& c) {
  return {{"architecture", ArchitectureName(c.architecture)}, {"experts", c.experts}, {"expert_units", c.expert_units},
          {"tower_units", c.tower_units}, {"cluster_dim", c.cluster_dim}, {"epochs", c.epochs},
          {"batch_size", c.batch_size}, {"learning_rate", c.learning_rate}, {"l2", c.l2},
          {"task_weights", c.task_weights}, {"seed", c.seed}};
}

ModelConfig ConfigFromJson(const nlohmann::json& j) {
  ModelConfig c;
  const auto architecture = ParseArchitecture(j.at("architecture").get<std::string>());
  GR_CHECK_CODE(architecture.has_value(), ErrorCode::kCorruption, "unknown architecture in the model");
  c.architecture = *architecture;
  c.experts = j.at("experts");
  c.expert_units = j.at("expert_units");
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

const char* TaskName(int task) {
  static constexpr const char* kNames[kNumTasks] = {"click", "interaction", "dwell"};
  return task >= 0 && task < kNumTasks ? kNames[task] : "?";
}

const char* ArchitectureName(Architecture architecture) {
  switch (architecture) {
    case Architecture::kMmoe: return "mmoe";
    case Architecture::kSharedBottom: return "shared-bottom";
    case Architecture::kSingleTask: return "single-task";
  }
  return "?";
}

std::optional<Architecture> ParseArchitecture(std::string_view name) {
  for (const Architecture a : {Architecture::kMmoe, Architecture::kSharedBottom, Architecture::kSingleTask})
    if (name == ArchitectureName(a)) return a;
  return std::nullopt;
}

void ModelConfig::Validate() const {
  GR_CHECK(experts >= 1 && experts <= 64, "experts must be in [1, 64], got ", experts);
  GR_CHECK(expert_units >= 1 && expert_units <= 4096, "expert_units must be in [1, 4096], got ", expert_units);
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
}

size_t MultiTaskModel::num_parameters() const {
  size_t total = 0;
  for (const Network& net : networks_) total += net.params.size();
  return total;
}

namespace {

// Column means and inverse standard deviations of the dense features, from
// the training rows (constant columns pass through centred).
void FitStandardisation(const Examples& examples, std::vector<float>& mean, std::vector<float>& inv_std) {
  const size_t n = examples.size(), dd = examples.dense_dim;
  mean.assign(dd, 0.0f);
  inv_std.assign(dd, 1.0f);
  for (size_t j = 0; j < dd; ++j) {
    double sum = 0, sum2 = 0;
    for (size_t i = 0; i < n; ++i) {
      const double v = examples.dense[i * dd + j];
      sum += v;
      sum2 += v * v;
    }
    const double m = sum / static_cast<double>(n);
    const double var = std::max(0.0, sum2 / static_cast<double>(n) - m * m);
    mean[j] = static_cast<float>(m);
    inv_std[j] = var > 1e-12 ? static_cast<float>(1.0 / std::sqrt(var)) : 1.0f;
  }
}

// The architecture's networks (one for all tasks, or one per task) with
// Glorot-uniform weights, zero biases and small uniform cluster embeddings;
// returns their layouts.
std::vector<Layout> InitNetworks(const ModelConfig& config, size_t dd, size_t slots, uint32_t cluster_rows,
                                 std::vector<Network>& networks) {
  switch (config.architecture) {
    case Architecture::kMmoe:
      networks.push_back({0b111, config.experts, config.expert_units, {}});
      break;
    case Architecture::kSharedBottom:
      networks.push_back({0b111, 1, config.experts * config.expert_units, {}});
      break;
    case Architecture::kSingleTask:
      for (int t = 0; t < kNumTasks; ++t) networks.push_back({1u << t, config.experts, config.expert_units, {}});
      break;
  }
  std::vector<Layout> layouts;
  for (size_t k = 0; k < networks.size(); ++k) {
    Network& net = networks[k];
    const Layout l(net, dd, slots, config.cluster_dim, cluster_rows, config.tower_units);
    layouts.push_back(l);
    net.params.assign(l.total, 0.0f);
    Rng rng(MixSeed(config.seed, 0x696e6974ULL, k));  // "init"
    const auto fill = [&](size_t offset, size_t rows, size_t cols, float scale) {
      for (size_t i = 0; i < rows * cols; ++i) net.params[offset + i] = scale * (2.0f * rng.UniformFloat() - 1.0f);
    };
    const auto glorot = [](size_t fan_out, size_t fan_in) { return std::sqrt(6.0f / static_cast<float>(fan_in + fan_out)); };
    if (slots > 0) fill(l.embedding, l.cluster_dim, l.cluster_rows, 0.05f);
    for (size_t e = 0; e < l.experts; ++e) fill(l.expert_w[e], l.units, l.input, glorot(l.units, l.input));
    for (int t = 0; t < kNumTasks; ++t) {
      if (!l.Has(t)) continue;
      fill(l.gate_w[t], l.experts, l.input, glorot(l.experts, l.input));
      fill(l.tower_w[t], l.tower, l.units, glorot(l.tower, l.units));
      fill(l.out_w[t], 1, l.tower, glorot(1, l.tower));
    }
  }
  return layouts;
}

// One mini-batch, gathered and standardised (rows in the order drawn).
struct Batch {
  std::vector<float> dense;        // b x dense_dim
  std::vector<uint32_t> clusters;  // b x cluster slots
  std::vector<uint32_t> rows;      // example rows
  size_t size = 0;
  std::array<double, kNumTasks> count{};  // examples per task: each task's loss is a mean over its own sample space
};

// Gathers the examples `rows` into batch, standardised while gathered (no
// second copy of the example matrix), and counts each task's examples.
void GatherBatch(const Examples& examples, std::span<const uint32_t> rows, const std::vector<float>& mean,
                 const std::vector<float>& inv_std, Batch& batch) {
  const size_t dd = examples.dense_dim, slots = examples.cluster_slots;
  batch.size = rows.size();
  for (size_t i = 0; i < rows.size(); ++i) {
    const uint32_t row = rows[i];
    batch.rows[i] = row;
    const float* from = examples.dense.data() + static_cast<size_t>(row) * dd;
    for (size_t j = 0; j < dd; ++j) batch.dense[i * dd + j] = (from[j] - mean[j]) * inv_std[j];
    std::copy_n(examples.clusters.data() + static_cast<size_t>(row) * slots, slots, batch.clusters.data() + i * slots);
  }
  batch.count = {static_cast<double>(rows.size()), static_cast<double>(rows.size()), 0.0};
  for (size_t i = 0; i < rows.size(); ++i) batch.count[kDwellTask] += examples.clicked[batch.rows[i]];
}

// Each task's summed loss over c examples from `lo` of the batch, and its
// gradient (task_weights-scaled, divided by the task's count) into g.
std::array<double, kNumTasks> ChunkLossAndGradient(const Layout& l, const Network& net, const Examples& examples,
                                                   const Batch& batch, size_t lo, size_t c,
                                                   const ModelConfig& config, AlignedFloats& g) {
  const size_t dd = examples.dense_dim, slots = examples.cluster_slots;
  g.assign(l.total, 0.0f);
  Forward f;
  RunForward(l, net.params.data(), batch.dense.data() + lo * dd, batch.clusters.data() + lo * slots, c, f);
  std::array<Eigen::RowVectorXf, kNumTasks> d_output;
  std::array<double, kNumTasks> loss{};
  for (int t = 0; t < kNumTasks; ++t) {
    if (!l.Has(t)) continue;
    d_output[t].setZero(static_cast<Eigen::Index>(c));
    if (batch.count[t] == 0) continue;
    const double scale = config.task_weights[t] / batch.count[t];
    for (size_t j = 0; j < c; ++j) {
      const uint32_t row = batch.rows[lo + j];
      const double o = f.output[t][static_cast<Eigen::Index>(j)];
      if (t == kDwellTask) {
        if (!examples.clicked[row]) continue;
        const double y = std::log1p(std::max(0.0f, examples.dwell_seconds[row]));
        loss[t] += 0.5 * (o - y) * (o - y);
        d_output[t][static_cast<Eigen::Index>(j)] = static_cast<float>((o - y) * scale);
      } else {
        const double y = t == kClickTask ? examples.clicked[row] : examples.interacted[row];
        loss[t] += Softplus(o) - y * o;
        d_output[t][static_cast<Eigen::Index>(j)] = static_cast<float>((Sigmoid(o) - y) * scale);
      }
    }
  }
  RunBackward(l, net.params.data(), batch.clusters.data() + lo * slots, c, f, d_output, g.data());
  return loss;
}

// Adam with L2, one step on params from the chunk gradients summed in chunk
// order, in parallel over parameter ranges (element-wise: the result does
// not depend on the thread count).
struct Adam {
  static constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f, kEpsilon = 1e-8f;
  AlignedFloats m, v;

  explicit Adam(size_t parameters) : m(parameters, 0.0f), v(parameters, 0.0f) {}
  void Step(AlignedFloats& params, const std::vector<AlignedFloats>& chunk_grads, size_t chunks, uint64_t step,
            const ModelConfig& config) {
    const float correction1 = 1.0f - std::pow(kBeta1, static_cast<float>(step));
    const float correction2 = 1.0f - std::pow(kBeta2, static_cast<float>(step));
    const float rate = config.learning_rate * std::sqrt(correction2) / correction1;
    constexpr size_t kSpan = 8192;
    ParallelFor(static_cast<int64_t>((params.size() + kSpan - 1) / kSpan), config.threads, 1, [&](int64_t span) {
      const size_t end = std::min(params.size(), static_cast<size_t>(span + 1) * kSpan);
      for (size_t i = static_cast<size_t>(span) * kSpan; i < end; ++i) {
        float g = chunk_grads[0][i];
        for (size_t ci = 1; ci < chunks; ++ci) g += chunk_grads[ci][i];
        g += config.l2 * params[i];
        m[i] = kBeta1 * m[i] + (1 - kBeta1) * g;
        v[i] = kBeta2 * v[i] + (1 - kBeta2) * g * g;
        params[i] -= rate * m[i] / (std::sqrt(v[i]) + kEpsilon);
      }
    });
  }
};

void CheckExamples(const Examples& examples, uint32_t cluster_rows) {
  const size_t n = examples.size(), dd = examples.dense_dim, slots = examples.cluster_slots;
  GR_CHECK(n > 0, "no training examples");
  GR_CHECK(examples.dense.size() == n * dd && examples.clusters.size() == n * slots &&
               examples.interacted.size() == n && examples.dwell_seconds.size() == n,
           "inconsistent example arrays");
  GR_CHECK(slots == 0 || cluster_rows > 0, "cluster ids given but no cluster rows");
  for (const uint32_t id : examples.clusters) GR_CHECK(id < cluster_rows, "cluster id ", id, " >= ", cluster_rows);
}

}  // namespace

MultiTaskModel MultiTaskModel::Train(const Examples& examples, uint32_t cluster_rows, const ModelConfig& config,
                                     TrainingReport* report, const Progress& progress) {
  config.Validate();
  CheckExamples(examples, cluster_rows);
  const size_t n = examples.size(), dd = examples.dense_dim, slots = examples.cluster_slots;
  const auto start = std::chrono::steady_clock::now();
  MultiTaskModel model;
  model.config_ = config;
  model.config_.threads = 0;  // how it was trained, not what it is: models compare equal across thread counts
  model.cluster_slots_ = slots;
  model.cluster_rows_ = cluster_rows;
  FitStandardisation(examples, model.mean_, model.inv_std_);
  const std::vector<Layout> layouts = InitNetworks(config, dd, slots, cluster_rows, model.networks_);

  const size_t batch_size = std::min<size_t>(config.batch_size, n);
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  Batch batch{std::vector<float>(batch_size * dd), std::vector<uint32_t>(batch_size * slots),
              std::vector<uint32_t>(batch_size)};
  std::vector<Adam> adam;
  for (const Network& net : model.networks_) adam.emplace_back(net.params.size());
  const size_t max_chunks = (batch_size + kChunk - 1) / kChunk;
  std::vector<AlignedFloats> chunk_grads(max_chunks);
  std::vector<std::array<double, kNumTasks>> chunk_loss(max_chunks);
  TrainingReport local;
  TrainingReport& rep = report != nullptr ? *report : local;
  rep = {};
  uint64_t step = 0;
  ProgressMeter meter("ranker training", "examples", static_cast<uint64_t>(n) * config.epochs);
  for (uint32_t epoch = 0; epoch < config.epochs; ++epoch) {
    Rng shuffle(MixSeed(config.seed, 0x73687566ULL, epoch));  // "shuf"
    for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[shuffle.Uniform(i)]);
    std::array<double, kNumTasks> loss_sum{}, loss_count{};
    for (size_t first = 0; first < n; first += batch_size) {
      GatherBatch(examples, std::span<const uint32_t>(order).subspan(first, std::min(batch_size, n - first)), model.mean_,
                  model.inv_std_, batch);
      const size_t chunks = (batch.size + kChunk - 1) / kChunk;
      ++step;
      for (size_t k = 0; k < model.networks_.size(); ++k) {
        const Layout& l = layouts[k];
        ParallelFor(static_cast<int64_t>(chunks), config.threads, 1, [&](int64_t ci) {
          const size_t lo = static_cast<size_t>(ci) * kChunk;
          chunk_loss[ci] = ChunkLossAndGradient(l, model.networks_[k], examples, batch, lo,
                                                std::min(kChunk, batch.size - lo), config, chunk_grads[ci]);
        });
        for (size_t ci = 0; ci < chunks; ++ci)
          for (int t = 0; t < kNumTasks; ++t)
            if (l.Has(t)) loss_sum[t] += chunk_loss[ci][t];
        adam[k].Step(model.networks_[k].params, chunk_grads, chunks, step, config);
      }
      for (int t = 0; t < kNumTasks; ++t) loss_count[t] += batch.count[t];
      meter.Add(batch.size);
    }
    std::array<double, kNumTasks> mean_loss{};
    for (int t = 0; t < kNumTasks; ++t) mean_loss[t] = loss_count[t] > 0 ? loss_sum[t] / loss_count[t] : 0.0;
    rep.epoch_loss.push_back(mean_loss);
    if (progress) progress(epoch + 1, mean_loss);
  }
  for (const Network& net : model.networks_)
    for (const float p : net.params) GR_CHECK_CODE(std::isfinite(p), ErrorCode::kInternal, "training diverged (non-finite weight): lower the learning rate");
  rep.examples_seen = static_cast<uint64_t>(n) * config.epochs;
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rep.examples_per_second = rep.seconds > 0 ? static_cast<double>(rep.examples_seen) / rep.seconds : 0;
  rep.parameters = model.num_parameters();
  return model;
}

void MultiTaskModel::Predict(const float* dense, const uint32_t* clusters, size_t n, TaskScores* out) const {
  GR_CHECK(!networks_.empty(), "the model is not trained");
  const size_t dd = mean_.size(), slots = cluster_slots_;
  std::vector<float> standardised(std::min(n, kChunk) * dd);
  std::vector<Layout> layouts;  // once per call, not per chunk: this is the serving path
  for (const Network& net : networks_)
    layouts.emplace_back(net, dd, slots, config_.cluster_dim, cluster_rows_, config_.tower_units);
  Forward f;
  for (size_t lo = 0; lo < n; lo += kChunk) {
    const size_t c = std::min(kChunk, n - lo);
    for (size_t i = 0; i < c; ++i)
      for (size_t j = 0; j < dd; ++j)
        standardised[i * dd + j] = (dense[(lo + i) * dd + j] - mean_[j]) * inv_std_[j];
    for (size_t j = 0; j < c * slots; ++j)
      GR_CHECK(clusters[lo * slots + j] < cluster_rows_, "cluster id ", clusters[lo * slots + j], " out of range");
    for (size_t k = 0; k < networks_.size(); ++k) {
      const Layout& l = layouts[k];
      RunForward(l, networks_[k].params.data(), standardised.data(), clusters + lo * slots, c, f);
      for (int t = 0; t < kNumTasks; ++t) {
        if (!l.Has(t)) continue;
        for (size_t j = 0; j < c; ++j) {
          const double o = f.output[t][static_cast<Eigen::Index>(j)];
          out[lo + j][t] = static_cast<float>(t == kDwellTask ? std::expm1(std::clamp(o, 0.0, 20.0)) : Sigmoid(o));
        }
      }
    }
  }
}

void MultiTaskModel::Save(SectionWriter& writer) const {
  nlohmann::json j = ConfigToJson(config_);
  j["cluster_slots"] = cluster_slots_;
  j["cluster_rows"] = cluster_rows_;
  j["networks"] = nlohmann::json::array();
  for (const Network& net : networks_)
    j["networks"].push_back({{"task_mask", net.task_mask}, {"experts", net.experts}, {"expert_units", net.expert_units}});
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
    for (const auto& net : j.at("networks"))
      model.networks_.push_back({net.at("task_mask"), net.at("experts"), net.at("expert_units"), {}});
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
        net.task_mask == 0 || (net.task_mask & ~0b111u) != 0 || (tasks & net.task_mask) != 0)
      reader.Fail("bad network description");
    tasks |= net.task_mask;
    const std::vector<float> params = reader.Read<float>(StrCat("model.network", k));
    net.params.assign(params.begin(), params.end());
    const Layout l(net, model.mean_.size(), model.cluster_slots_, model.config_.cluster_dim, model.cluster_rows_,
                   model.config_.tower_units);
    if (net.params.size() != l.total) reader.Fail(StrCat("model.network", k, " has ", net.params.size(), " weights, expected ", l.total));
  }
  if (tasks != 0b111u) reader.Fail("the networks do not cover the three tasks");
  return model;
}

}  // namespace gr::ranking
