// One network of the multi-task model (internal to ranking/): the graph of
// experts, gated mixtures and towers its architecture builds, where each
// parameter block sits in its flat vector, and the forward and backward
// passes over a chunk of examples (Eigen, column per example).
//
// Every value is a "stream": stream 0 is the input x, each expert and each
// mixture writes one more. Operations are kept in topological order, so the
// forward pass runs them in order and the backward pass in reverse.
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
constexpr uint32_t kAllTasks = (1u << kNumTasks) - 1;  // a network's task_mask when it serves every task

// Hard-concrete constants (Louizos et al., ICLR 2018) for SNR's coding variables.
constexpr float kConcreteBeta = 2.0f / 3.0f, kConcreteLow = -0.1f, kConcreteHigh = 1.1f;

// h = ReLU(W s + b) over stream `source`.
struct ExpertBlock {
  uint32_t source = 0, out = 0;
  size_t w = 0, b = 0;
};

enum class GateKind : uint8_t {
  kSoftmax,  // g = softmax(W s + b) over the inputs, s = stream gate_source
  kCoding,   // z_i per input from the learned log alpha at b (SNR)
};

// out = sum_i g_i * stream inputs[i] (all inputs the same width).
struct MixBlock {
  uint32_t out = 0;
  std::vector<uint32_t> inputs;
  GateKind kind = GateKind::kSoftmax;
  uint32_t gate_source = 0;
  size_t w = 0, b = 0;
  size_t noise = 0;  // coding: first of its inputs.size() entries in the training noise
};

struct TowerBlock {
  int task = 0;
  uint32_t source = 0;
  size_t w = 0, b = 0, out_w = 0, out_b = 0;
};

// Offsets of one network's parameter blocks in its flat vector.
struct Layout {
  size_t input = 0, dense = 0, slots = 0, cluster_dim = 0, cluster_rows = 0, tower = 0;
  size_t embedding = 0;         // cluster_dim x cluster_rows
  std::vector<size_t> width;    // per stream
  std::vector<ExpertBlock> experts;
  std::vector<MixBlock> mixes;
  struct Op {
    bool expert;
    uint32_t index;
  };
  std::vector<Op> ops;          // topological order
  std::vector<TowerBlock> towers;
  uint32_t task_mask = 0;
  size_t coding_connections = 0;  // SNR coding variables (training noise entries)
  size_t total = 0;

  Layout(const Network& net, size_t dense_dim, size_t cluster_slots, size_t cdim, size_t rows, size_t tower_units);
  bool Has(int t) const { return (task_mask >> t) & 1u; }
};

inline MatrixMap Mat(float* base, size_t offset, size_t rows, size_t cols) {
  return MatrixMap(base + offset, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
}
inline VectorMap Vec(float* base, size_t offset, size_t n) { return VectorMap(base + offset, static_cast<Eigen::Index>(n)); }

// Intermediate values of one forward pass over a chunk, kept for backward.
struct Forward {
  std::vector<Matrix> stream;                  // per stream, width x c (ReLU applied for experts)
  std::vector<Matrix> gate;                    // per softmax mix: inputs x c
  std::vector<Eigen::VectorXf> coding, d_coding;  // per coding mix: z, and dz / d log alpha
  std::vector<Matrix> tower;                   // per tower block, tower x c
  std::array<Eigen::RowVectorXf, kNumTasks> output;  // 1 x c, raw (logit or log dwell)
};

// The value of a coding variable: with logistic noise while training
// (`noise` not null), its deterministic test-time value otherwise.
float CodingValue(float log_alpha, const float* noise, float* derivative);
// The L0 penalty's gradient per coding variable: d/d log alpha of P(z != 0).
float L0Gradient(float log_alpha);

// Runs the network on c examples whose dense features are already
// standardised; `noise` (coding_connections logistic draws) only while training.
void RunForward(const Layout& l, const float* params, const float* dense, const uint32_t* clusters, size_t c,
                const float* noise, Forward& f);

// Adds the gradient of the chunk's loss (given d loss / d output per task) to `grad`.
void RunBackward(const Layout& l, const float* params, const uint32_t* clusters, size_t c, const Forward& f,
                 const std::array<Eigen::RowVectorXf, kNumTasks>& d_output, float* grad);

}  // namespace gr::ranking::internal
