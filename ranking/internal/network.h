// One network of the multi-task model (internal to ranking/): where each
// parameter block sits in its flat vector, and the forward and backward
// passes over a chunk of examples (Eigen, column per example).
#pragma once

// The gradient chunks already run in parallel; Eigen must not start threads of its own.
#define EIGEN_DONT_PARALLELIZE
#include <Eigen/Core>

#include <array>
#include <vector>

#include "ranking/model.h"

namespace gr::ranking::internal {

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

inline MatrixMap Mat(float* base, size_t offset, size_t rows, size_t cols) {
  return MatrixMap(base + offset, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
}
inline VectorMap Vec(float* base, size_t offset, size_t n) { return VectorMap(base + offset, static_cast<Eigen::Index>(n)); }

// Intermediate values of one forward pass over a chunk, kept for backward.
struct Forward {
  Matrix x;                                  // input x c
  std::vector<Matrix> hidden;                // per expert, units x c, after ReLU
  std::array<Matrix, kNumTasks> gate, mixed, tower;  // experts x c, units x c, tower x c
  std::array<Eigen::RowVectorXf, kNumTasks> output;  // 1 x c, raw (logit or log dwell)
};

// Runs the network on c examples whose dense features are already standardised.
void RunForward(const Layout& l, const float* params_const, const float* dense, const uint32_t* clusters, size_t c,
                Forward& f);

// Adds the gradient of the chunk's loss (given d loss / d output per task) to `grad`.
void RunBackward(const Layout& l, const float* params_const, const uint32_t* clusters, size_t c, const Forward& f,
                 const std::array<Eigen::RowVectorXf, kNumTasks>& d_output, float* grad);

}  // namespace gr::ranking::internal
