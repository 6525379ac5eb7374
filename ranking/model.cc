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
using internal::kAllTasks;
using internal::Layout;
using internal::Network;
using internal::RunBackward;
using internal::RunForward;

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
// log(1 + exp(x)) without overflow.
double Softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

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

// SNR connections start open (test-time z = 1) and close where the L0 penalty outweighs their use.
constexpr float kInitialLogAlpha = 2.5f;

// The architecture's networks (one for all tasks, or one per task) with
// Glorot-uniform weights, zero biases and small uniform cluster embeddings;
// returns their layouts.
std::vector<Layout> InitNetworks(const ModelConfig& config, size_t dd, size_t slots, uint32_t cluster_rows,
                                 std::vector<Network>& networks) {
  const auto describe = [&](uint32_t task_mask, Architecture architecture) {
    return Network{task_mask, architecture, config.experts, config.expert_units, config.task_experts, config.levels, {}};
  };
  if (config.architecture == Architecture::kSingleTask) {
    for (int t = 0; t < kNumTasks; ++t) networks.push_back(describe(1u << t, Architecture::kSingleTask));
  } else {
    networks.push_back(describe(kAllTasks, config.architecture));
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
    for (const internal::ExpertBlock& e : l.experts) {
      const size_t units = l.width[e.out], in = l.width[e.source];
      fill(e.w, units, in, glorot(units, in));
    }
    for (const internal::MixBlock& m : l.mixes) {
      const size_t inputs = m.inputs.size();
      if (m.kind == internal::GateKind::kSoftmax) {
        fill(m.w, inputs, l.width[m.gate_source], glorot(inputs, l.width[m.gate_source]));
      } else {
        for (size_t i = 0; i < inputs; ++i) net.params[m.b + i] = kInitialLogAlpha + 0.01f * (2.0f * rng.UniformFloat() - 1.0f);
      }
    }
    for (const internal::TowerBlock& b : l.towers) {
      fill(b.w, l.tower, l.width[b.source], glorot(l.tower, l.width[b.source]));
      fill(b.out_w, 1, l.tower, glorot(1, l.tower));
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
  batch.count = {};
  for (size_t i = 0; i < rows.size(); ++i)
    for (int t = 0; t < kNumTasks; ++t) batch.count[t] += examples.Observed(batch.rows[i], t);
}

// Each task's summed loss over c examples from `lo` of the batch, and its
// gradient (scaled by the task's loss weight, divided by the task's count) into g.
std::array<double, kNumTasks> ChunkLossAndGradient(const Layout& l, const Network& net, const Examples& examples,
                                                   const Batch& batch, size_t lo, size_t c,
                                                   const std::array<float, kNumTasks>& weights, const float* noise,
                                                   AlignedFloats& g) {
  const size_t dd = examples.dense_dim, slots = examples.cluster_slots;
  g.assign(l.total, 0.0f);
  Forward f;
  RunForward(l, net.params.data(), batch.dense.data() + lo * dd, batch.clusters.data() + lo * slots, c, noise, f);
  std::array<Eigen::RowVectorXf, kNumTasks> d_output;
  std::array<double, kNumTasks> loss{};
  for (int t = 0; t < kNumTasks; ++t) {
    if (!l.Has(t)) continue;
    d_output[t].setZero(static_cast<Eigen::Index>(c));
    if (batch.count[t] == 0) continue;
    const double scale = weights[t] / batch.count[t];
    for (size_t j = 0; j < c; ++j) {
      const uint32_t row = batch.rows[lo + j];
      if (!examples.Observed(row, t)) continue;
      const double o = f.output[t][static_cast<Eigen::Index>(j)];
      const double y = examples.Target(row, t);
      if (t == kDwellTask) {
        loss[t] += 0.5 * (o - y) * (o - y);
        d_output[t][static_cast<Eigen::Index>(j)] = static_cast<float>((o - y) * scale);
      } else {
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
               examples.interacted.size() == n && examples.dwell_seconds.size() == n &&
               (examples.negative.empty() || examples.negative.size() == n) &&
               (examples.profile_visit.empty() || examples.profile_visit.size() == n) &&
               (examples.completed.empty() || examples.completed.size() == n),
           "inconsistent example arrays");
  GR_CHECK(slots == 0 || cluster_rows > 0, "cluster ids given but no cluster rows");
  for (const uint32_t id : examples.clusters) GR_CHECK(id < cluster_rows, "cluster id ", id, " >= ", cluster_rows);
}

}  // namespace

size_t MultiTaskModel::num_parameters() const {
  size_t total = 0;
  for (const Network& net : networks_) total += net.params.size();
  return total;
}

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
  for (size_t i = 0; i < n; ++i)
    for (int t = 0; t < kNumTasks; ++t) rep.task_examples[t] += examples.Observed(i, t);
  // Loss weights: the given w_t, times exp(-s_t) with s_t (log variance) learned
  // by Adam alongside when uncertainty weighting is on.
  std::array<float, kNumTasks> log_variance{}, weights = config.task_weights;
  std::array<float, kNumTasks> variance_m{}, variance_v{};
  std::vector<float> noise;
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
      std::array<double, kNumTasks> batch_loss{};
      for (size_t k = 0; k < model.networks_.size(); ++k) {
        const Layout& l = layouts[k];
        // SNR: one draw of logistic noise per coding variable and step, shared by the chunks.
        noise.resize(l.coding_connections);
        Rng noise_rng(MixSeed(config.seed, 0x736e72ULL, step * 64 + k));  // "snr"
        for (float& u : noise) {
          const double draw = std::clamp(noise_rng.UniformDouble(), 1e-6, 1 - 1e-6);
          u = static_cast<float>(std::log(draw) - std::log1p(-draw));
        }
        ParallelFor(static_cast<int64_t>(chunks), config.threads, 1, [&](int64_t ci) {
          const size_t lo = static_cast<size_t>(ci) * kChunk;
          chunk_loss[ci] = ChunkLossAndGradient(l, model.networks_[k], examples, batch, lo,
                                                std::min(kChunk, batch.size - lo), weights,
                                                noise.empty() ? nullptr : noise.data(), chunk_grads[ci]);
        });
        for (size_t ci = 0; ci < chunks; ++ci)
          for (int t = 0; t < kNumTasks; ++t)
            if (l.Has(t)) batch_loss[t] += chunk_loss[ci][t];
        if (config.sparsity > 0)
          for (const internal::MixBlock& m : l.mixes)
            if (m.kind == internal::GateKind::kCoding) {
              // Each unit's strongest input is spared the penalty: a strong
              // penalty would otherwise close every input of a sparse task's
              // tower and leave it predicting a constant.
              const float* log_alpha = model.networks_[k].params.data() + m.b;
              const size_t strongest = static_cast<size_t>(std::max_element(log_alpha, log_alpha + m.inputs.size()) - log_alpha);
              for (size_t i = 0; i < m.inputs.size(); ++i)
                if (i != strongest) chunk_grads[0][m.b + i] += config.sparsity * internal::L0Gradient(log_alpha[i]);
            }
        adam[k].Step(model.networks_[k].params, chunk_grads, chunks, step, config);
      }
      for (int t = 0; t < kNumTasks; ++t) {
        loss_sum[t] += batch_loss[t];
        loss_count[t] += batch.count[t];
        if (!config.uncertainty_weighting || batch.count[t] == 0) continue;
        // d/ds [exp(-s) L + s] = 1 - exp(-s) L; Adam as for the weights.
        const double g = 1.0 - std::exp(-log_variance[t]) * batch_loss[t] / batch.count[t];
        variance_m[t] = 0.9f * variance_m[t] + 0.1f * static_cast<float>(g);
        variance_v[t] = 0.999f * variance_v[t] + 0.001f * static_cast<float>(g * g);
        const float m_hat = variance_m[t] / (1 - std::pow(0.9f, static_cast<float>(step)));
        const float v_hat = variance_v[t] / (1 - std::pow(0.999f, static_cast<float>(step)));
        log_variance[t] = std::clamp(log_variance[t] - config.learning_rate * m_hat / (std::sqrt(v_hat) + 1e-8f), -6.0f, 6.0f);
        weights[t] = config.task_weights[t] * std::exp(-log_variance[t]);
      }
      meter.Add(batch.size);
    }
    std::array<double, kNumTasks> mean_loss{};
    for (int t = 0; t < kNumTasks; ++t) mean_loss[t] = loss_count[t] > 0 ? loss_sum[t] / loss_count[t] : 0.0;
    rep.epoch_loss.push_back(mean_loss);
    if (progress) progress(epoch + 1, mean_loss);
  }
  for (const Network& net : model.networks_)
    for (const float p : net.params) GR_CHECK_CODE(std::isfinite(p), ErrorCode::kInternal, "training diverged (non-finite weight): lower the learning rate");
  model.loss_weights_ = weights;
  rep.loss_weights = weights;
  for (size_t k = 0; k < model.networks_.size(); ++k)
    for (const internal::MixBlock& m : layouts[k].mixes)
      if (m.kind == internal::GateKind::kCoding)
        for (size_t i = 0; i < m.inputs.size(); ++i) {
          ++rep.connections;
          rep.open_connections += internal::CodingValue(model.networks_[k].params[m.b + i], nullptr, nullptr) > 0;
        }
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
      RunForward(l, networks_[k].params.data(), standardised.data(), clusters + lo * slots, c, nullptr, f);
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

}  // namespace gr::ranking
