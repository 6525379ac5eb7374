#include "ranking/model.h"

// The gradient chunks already run in parallel; Eigen must not start threads of its own.
#define EIGEN_DONT_PARALLELIZE
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"

namespace gr::ranking {
namespace {

using Matrix = Eigen::MatrixXf;  // column-major: one column per example
using MatrixMap = Eigen::Map<Matrix>;
using VectorMap = Eigen::Map<Eigen::VectorXf>;
using Network = MultiTaskModel::Network;
using AlignedFloats = std::vector<float, AlignedAllocator<float, 64>>;

constexpr size_t kChunk = 64;  // examples per gradient chunk (fixed: determinism)

// Offsets of one network's parameter blocks in its flat vector.
struct Layout {
  size_t input = 0, dense = 0, slots = 0, cluster_dim = 0, cluster_rows = 0;
  size_t experts = 0, units = 0, tower = 0;
  size_t embedding = 0;                           // cluster_dim x cluster_rows
  std::vector<size_t> expert_w, expert_b;         // units x input, units
  std::array<size_t, kNumTasks> gate_w{}, gate_b{}, tower_w{}, tower_b{}, out_w{}, out_b{};
  uint32_t task_mask = 0;
  size_t total = 0;

  Layout(const Network& net, size_t dense_dim, size_t cluster_slots, size_t cdim, size_t rows, size_t tower_units)
      : dense(dense_dim), slots(cluster_slots), cluster_dim(cdim), cluster_rows(rows),
        experts(net.experts), units(net.expert_units), tower(tower_units), task_mask(net.task_mask) {
    input = dense + slots * cluster_dim;
    const auto take = [&](size_t n) {
      const size_t at = total;
      total += (n + 15) / 16 * 16;  // keep the next block 64-byte aligned
      return at;
    };
    embedding = take(slots > 0 ? cluster_dim * cluster_rows : 0);
    for (size_t e = 0; e < experts; ++e) {
      expert_w.push_back(take(units * input));
      expert_b.push_back(take(units));
    }
    for (int t = 0; t < kNumTasks; ++t) {
      if (!Has(t)) continue;
      gate_w[t] = take(experts * input);
      gate_b[t] = take(experts);
      tower_w[t] = take(tower * units);
      tower_b[t] = take(tower);
      out_w[t] = take(tower);
      out_b[t] = take(1);
    }
  }
  bool Has(int t) const { return (task_mask >> t) & 1u; }
};

MatrixMap Mat(float* base, size_t offset, size_t rows, size_t cols) {
  return MatrixMap(base + offset, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
}
VectorMap Vec(float* base, size_t offset, size_t n) { return VectorMap(base + offset, static_cast<Eigen::Index>(n)); }

// Intermediate values of one forward pass over a chunk, kept for backward.
struct Forward {
  Matrix x;                                  // input x c
  std::vector<Matrix> hidden;                // per expert, units x c, after ReLU
  std::array<Matrix, kNumTasks> gate, mixed, tower;  // experts x c, units x c, tower x c
  std::array<Eigen::RowVectorXf, kNumTasks> output;  // 1 x c, raw (logit or log dwell)
};

// Runs the network on c examples whose dense features are already standardised.
void RunForward(const Layout& l, const float* params_const, const float* dense, const uint32_t* clusters, size_t c,
                Forward& f) {
  auto* params = const_cast<float*>(params_const);  // maps are only read here
  const auto cols = static_cast<Eigen::Index>(c);
  f.x.resize(static_cast<Eigen::Index>(l.input), cols);
  f.x.topRows(static_cast<Eigen::Index>(l.dense)) =
      Eigen::Map<const Matrix>(dense, static_cast<Eigen::Index>(l.dense), cols);
  if (l.slots > 0) {
    const MatrixMap embedding = Mat(params, l.embedding, l.cluster_dim, l.cluster_rows);
    for (size_t j = 0; j < c; ++j)
      for (size_t s = 0; s < l.slots; ++s)
        f.x.block(static_cast<Eigen::Index>(l.dense + s * l.cluster_dim), static_cast<Eigen::Index>(j),
                  static_cast<Eigen::Index>(l.cluster_dim), 1) = embedding.col(clusters[j * l.slots + s]);
  }
  f.hidden.resize(l.experts);
  for (size_t e = 0; e < l.experts; ++e) {
    f.hidden[e].noalias() = Mat(params, l.expert_w[e], l.units, l.input) * f.x;
    f.hidden[e].colwise() += Vec(params, l.expert_b[e], l.units);
    f.hidden[e] = f.hidden[e].cwiseMax(0.0f);
  }
  for (int t = 0; t < kNumTasks; ++t) {
    if (!l.Has(t)) continue;
    Matrix& gate = f.gate[t];
    gate.noalias() = Mat(params, l.gate_w[t], l.experts, l.input) * f.x;
    gate.colwise() += Vec(params, l.gate_b[t], l.experts);
    const Eigen::RowVectorXf max = gate.colwise().maxCoeff();
    gate = (gate.rowwise() - max).array().exp().matrix();
    const Eigen::RowVectorXf sum = gate.colwise().sum();
    gate.array().rowwise() /= sum.array();
    Matrix& mixed = f.mixed[t];
    mixed.setZero(static_cast<Eigen::Index>(l.units), cols);
    for (size_t e = 0; e < l.experts; ++e)
      mixed.array() += f.hidden[e].array().rowwise() * gate.row(static_cast<Eigen::Index>(e)).array();
    Matrix& tower = f.tower[t];
    tower.noalias() = Mat(params, l.tower_w[t], l.tower, l.units) * mixed;
    tower.colwise() += Vec(params, l.tower_b[t], l.tower);
    tower = tower.cwiseMax(0.0f);
    f.output[t].noalias() = Vec(params, l.out_w[t], l.tower).transpose() * tower;
    f.output[t].array() += params[l.out_b[t]];
  }
}

// Adds the gradient of the chunk's loss (given d loss / d output per task) to `grad`.
void RunBackward(const Layout& l, const float* params_const, const uint32_t* clusters, size_t c, const Forward& f,
                 const std::array<Eigen::RowVectorXf, kNumTasks>& d_output, float* grad) {
  auto* params = const_cast<float*>(params_const);
  const auto cols = static_cast<Eigen::Index>(c);
  std::vector<Matrix> d_hidden(l.experts, Matrix::Zero(static_cast<Eigen::Index>(l.units), cols));
  const auto cluster_rows = static_cast<Eigen::Index>(l.slots * l.cluster_dim);
  Matrix d_cluster_x = Matrix::Zero(cluster_rows, cols);
  for (int t = 0; t < kNumTasks; ++t) {
    if (!l.Has(t)) continue;
    const Eigen::RowVectorXf& d_out = d_output[t];
    Vec(grad, l.out_w[t], l.tower).noalias() += f.tower[t] * d_out.transpose();
    grad[l.out_b[t]] += d_out.sum();
    Matrix d_tower = Vec(params, l.out_w[t], l.tower) * d_out;
    d_tower.array() *= (f.tower[t].array() > 0.0f).cast<float>();
    Mat(grad, l.tower_w[t], l.tower, l.units).noalias() += d_tower * f.mixed[t].transpose();
    Vec(grad, l.tower_b[t], l.tower) += d_tower.rowwise().sum();
    const Matrix d_mixed = Mat(params, l.tower_w[t], l.tower, l.units).transpose() * d_tower;
    const Matrix& gate = f.gate[t];
    Matrix d_gate(static_cast<Eigen::Index>(l.experts), cols);
    for (size_t e = 0; e < l.experts; ++e) {
      const auto row = static_cast<Eigen::Index>(e);
      d_hidden[e].array() += d_mixed.array().rowwise() * gate.row(row).array();
      d_gate.row(row) = (d_mixed.array() * f.hidden[e].array()).colwise().sum().matrix();
    }
    // Softmax backward: dz = g * (dg - sum(g * dg)).
    const Eigen::RowVectorXf weighted = (gate.array() * d_gate.array()).colwise().sum().matrix();
    const Matrix d_logits = (gate.array() * (d_gate.array().rowwise() - weighted.array())).matrix();
    Mat(grad, l.gate_w[t], l.experts, l.input).noalias() += d_logits * f.x.transpose();
    Vec(grad, l.gate_b[t], l.experts) += d_logits.rowwise().sum();
    if (cluster_rows > 0)
      d_cluster_x.noalias() +=
          Mat(params, l.gate_w[t], l.experts, l.input).rightCols(cluster_rows).transpose() * d_logits;
  }
  for (size_t e = 0; e < l.experts; ++e) {
    d_hidden[e].array() *= (f.hidden[e].array() > 0.0f).cast<float>();
    Mat(grad, l.expert_w[e], l.units, l.input).noalias() += d_hidden[e] * f.x.transpose();
    Vec(grad, l.expert_b[e], l.units) += d_hidden[e].rowwise().sum();
    if (cluster_rows > 0)
      d_cluster_x.noalias() += Mat(params, l.expert_w[e], l.units, l.input).rightCols(cluster_rows).transpose() * d_hidden[e];
  }
  if (l.slots > 0) {
    MatrixMap d_embedding = Mat(grad, l.embedding, l.cluster_dim, l.cluster_rows);
    for (size_t j = 0; j < c; ++j)
      for (size_t s = 0; s < l.slots; ++s)
        d_embedding.col(clusters[j * l.slots + s]) +=
            d_cluster_x.block(static_cast<Eigen::Index>(s * l.cluster_dim), static_cast<Eigen::Index>(j),
                              static_cast<Eigen::Index>(l.cluster_dim), 1);
  }
}

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

MultiTaskModel MultiTaskModel::Train(const Examples& examples, uint32_t cluster_rows, const ModelConfig& config,
                                     TrainingReport* report, const Progress& progress) {
  config.Validate();
  const size_t n = examples.size(), dd = examples.dense_dim, slots = examples.cluster_slots;
  GR_CHECK(n > 0, "no training examples");
  GR_CHECK(examples.dense.size() == n * dd && examples.clusters.size() == n * slots &&
               examples.interacted.size() == n && examples.dwell_seconds.size() == n,
           "inconsistent example arrays");
  GR_CHECK(slots == 0 || cluster_rows > 0, "cluster ids given but no cluster rows");
  for (const uint32_t id : examples.clusters) GR_CHECK(id < cluster_rows, "cluster id ", id, " >= ", cluster_rows);
  const auto start = std::chrono::steady_clock::now();

  MultiTaskModel model;
  model.config_ = config;
  model.config_.threads = 0;  // how it was trained, not what it is: models compare equal across thread counts
  model.cluster_slots_ = slots;
  model.cluster_rows_ = cluster_rows;
  // Standardisation from the training rows (constant columns pass through centred).
  model.mean_.assign(dd, 0.0f);
  model.inv_std_.assign(dd, 1.0f);
  for (size_t j = 0; j < dd; ++j) {
    double sum = 0, sum2 = 0;
    for (size_t i = 0; i < n; ++i) {
      const double v = examples.dense[i * dd + j];
      sum += v;
      sum2 += v * v;
    }
    const double mean = sum / static_cast<double>(n);
    const double var = std::max(0.0, sum2 / static_cast<double>(n) - mean * mean);
    model.mean_[j] = static_cast<float>(mean);
    model.inv_std_[j] = var > 1e-12 ? static_cast<float>(1.0 / std::sqrt(var)) : 1.0f;
  }

  // The networks: one for all tasks, or one per task.
  switch (config.architecture) {
    case Architecture::kMmoe:
      model.networks_.push_back({0b111, config.experts, config.expert_units, {}});
      break;
    case Architecture::kSharedBottom:
      model.networks_.push_back({0b111, 1, config.experts * config.expert_units, {}});
      break;
    case Architecture::kSingleTask:
      for (int t = 0; t < kNumTasks; ++t) model.networks_.push_back({1u << t, config.experts, config.expert_units, {}});
      break;
  }
  // Glorot-uniform weights, zero biases, small uniform cluster embeddings.
  std::vector<Layout> layouts;
  for (size_t k = 0; k < model.networks_.size(); ++k) {
    Network& net = model.networks_[k];
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

  const size_t batch = std::min<size_t>(config.batch_size, n);
  const size_t max_chunks = (batch + kChunk - 1) / kChunk;
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::vector<float> batch_dense(batch * dd);
  std::vector<uint32_t> batch_clusters(batch * slots);
  std::vector<uint32_t> batch_rows(batch);
  uint64_t step = 0;
  // Adam state per network.
  std::vector<AlignedFloats> adam_m, adam_v;
  for (const Network& net : model.networks_) {
    adam_m.emplace_back(net.params.size(), 0.0f);
    adam_v.emplace_back(net.params.size(), 0.0f);
  }
  std::vector<AlignedFloats> chunk_grads(max_chunks);
  std::vector<std::array<double, kNumTasks>> chunk_loss(max_chunks);
  const float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
  TrainingReport local;
  TrainingReport& rep = report != nullptr ? *report : local;
  rep = {};

  for (uint32_t epoch = 0; epoch < config.epochs; ++epoch) {
    Rng shuffle(MixSeed(config.seed, 0x73687566ULL, epoch));  // "shuf"
    for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[shuffle.Uniform(i)]);
    std::array<double, kNumTasks> loss_sum{}, loss_count{};
    for (size_t first = 0; first < n; first += batch) {
      const size_t b = std::min(batch, n - first), chunks = (b + kChunk - 1) / kChunk;
      for (size_t i = 0; i < b; ++i) {
        const uint32_t row = order[first + i];
        batch_rows[i] = row;
        // Standardised while gathered: no second copy of the example matrix.
        const float* from = examples.dense.data() + static_cast<size_t>(row) * dd;
        for (size_t j = 0; j < dd; ++j) batch_dense[i * dd + j] = (from[j] - model.mean_[j]) * model.inv_std_[j];
        std::copy_n(examples.clusters.data() + static_cast<size_t>(row) * slots, slots, batch_clusters.data() + i * slots);
      }
      // Examples per task in this batch: each task's loss is its mean over its own sample space.
      std::array<double, kNumTasks> count{static_cast<double>(b), static_cast<double>(b), 0.0};
      for (size_t i = 0; i < b; ++i) count[kDwellTask] += examples.clicked[batch_rows[i]];
      ++step;
      for (size_t k = 0; k < model.networks_.size(); ++k) {
        const Network& net = model.networks_[k];
        const Layout& l = layouts[k];
        ParallelFor(static_cast<int64_t>(chunks), config.threads, 1, [&](int64_t ci) {
          const size_t lo = static_cast<size_t>(ci) * kChunk, c = std::min(kChunk, b - lo);
          AlignedFloats& g = chunk_grads[ci];
          g.assign(l.total, 0.0f);
          Forward f;
          RunForward(l, net.params.data(), batch_dense.data() + lo * dd, batch_clusters.data() + lo * slots, c, f);
          std::array<Eigen::RowVectorXf, kNumTasks> d_output;
          std::array<double, kNumTasks> loss{};
          for (int t = 0; t < kNumTasks; ++t) {
            if (!l.Has(t)) continue;
            d_output[t].setZero(static_cast<Eigen::Index>(c));
            if (count[t] == 0) continue;
            const double scale = config.task_weights[t] / count[t];
            for (size_t j = 0; j < c; ++j) {
              const uint32_t row = batch_rows[lo + j];
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
          chunk_loss[ci] = loss;
          RunBackward(l, net.params.data(), batch_clusters.data() + lo * slots, c, f, d_output, g.data());
        });
        for (size_t ci = 0; ci < chunks; ++ci)
          for (int t = 0; t < kNumTasks; ++t)
            if (l.Has(t)) loss_sum[t] += chunk_loss[ci][t];
        // Sum the chunks in chunk order and take one Adam step, in parallel over
        // parameter ranges (element-wise: the result does not depend on threads).
        const float correction1 = 1.0f - std::pow(beta1, static_cast<float>(step));
        const float correction2 = 1.0f - std::pow(beta2, static_cast<float>(step));
        const float rate = config.learning_rate * std::sqrt(correction2) / correction1;
        AlignedFloats& params = model.networks_[k].params;
        AlignedFloats& m = adam_m[k];
        AlignedFloats& v = adam_v[k];
        constexpr size_t kSpan = 8192;
        ParallelFor(static_cast<int64_t>((params.size() + kSpan - 1) / kSpan), config.threads, 1, [&](int64_t span) {
          const size_t end = std::min(params.size(), static_cast<size_t>(span + 1) * kSpan);
          for (size_t i = static_cast<size_t>(span) * kSpan; i < end; ++i) {
            float g = chunk_grads[0][i];
            for (size_t ci = 1; ci < chunks; ++ci) g += chunk_grads[ci][i];
            g += config.l2 * params[i];
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            params[i] -= rate * m[i] / (std::sqrt(v[i]) + epsilon);
          }
        });
      }
      for (int t = 0; t < kNumTasks; ++t) loss_count[t] += count[t];
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
