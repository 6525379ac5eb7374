// MultiTaskModel: a multi-task network for six tasks, each over its own
// sample space:
//   click            logistic, every impression
//   interaction      logistic, every impression (sparse positives)
//   dwell            regression on log(1 + dwell seconds), clicked impressions
//   negative         logistic ("not interested" / hide), impressions that
//                    record negative feedback (graph::kUnobserved otherwise)
//   profile_visit    logistic, impressions that record profile visits
//   completion       logistic (watched to the end), clicked video impressions
//
// Input x = standardised dense features ++ learned embeddings of the cluster
// ids (one table shared by the account, post and author slots). Every
// architecture is a graph of ReLU experts, gated mixtures of experts and one
// tower per task (one ReLU layer, one output):
//   single task:   one MMoE per task, trained on that task only (the baseline
//                  sharing must beat on sparse tasks).
//   shared bottom: one ReLU layer of experts x units shared by every tower.
//   MMoE:          E experts on x; per task a softmax gate g_t(x) over them
//                  (Ma et al., KDD 2018).
//   PLE:           `levels` CGC layers (Tang et al., RecSys 2020): per level E
//                  shared experts and `task_experts` experts per task; task
//                  t's gate (softmax, on t's input) mixes its own and the
//                  shared experts; a shared gate over all experts feeds the
//                  next level's shared experts.
//   SNR:           SNR-Aver (Ma et al., AAAI 2019): `levels` layers of E
//                  experts; the input of each upper expert and of each tower
//                  is sum_i z_i h_i over the layer below, with one learned
//                  coding variable z per connection (hard concrete, L0
//                  penalty `sparsity`, sparing each unit's strongest
//                  input), so connections can switch off. The
//                  per-connection transformation of SNR-Trans is left out
//                  (the simplification the source talk describes).
//
// Loss balance: the task losses are summed with `task_weights`, or with
// learned weights exp(-s_t) (+ s_t) when `uncertainty_weighting` is on
// (Kendall et al., CVPR 2018; s_t = log variance per task).
//
// Training: Adam on mini-batches, shuffled per epoch from the seed. Each
// mini-batch is cut into fixed 64-example chunks whose gradients are computed
// in parallel and summed in chunk order, so the same seed gives the same
// model whatever the thread count. Predict is const and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/binary_io.h"
#include "core/matrix.h"

namespace gr::ranking {

inline constexpr int kNumTasks = 6;
enum Task : int {
  kClickTask = 0,
  kInteractionTask = 1,
  kDwellTask = 2,
  kNegativeTask = 3,
  kProfileVisitTask = 4,
  kCompletionTask = 5,
};
// "click", "interaction", "dwell", "negative", "profile_visit", "completion"
const char* TaskName(int task);
std::optional<int> ParseTask(std::string_view name);

// A label no impression recorded (the example is outside that task's sample space).
inline constexpr uint8_t kUnobserved = 255;

enum class Architecture { kMmoe, kSharedBottom, kSingleTask, kPle, kSnr };
inline constexpr Architecture kAllArchitectures[] = {Architecture::kMmoe, Architecture::kSharedBottom,
                                                     Architecture::kSingleTask, Architecture::kPle, Architecture::kSnr};
// "mmoe", "shared-bottom", "single-task", "ple", "snr"
const char* ArchitectureName(Architecture architecture);
std::optional<Architecture> ParseArchitecture(std::string_view name);
std::string ArchitectureNames();  // "mmoe, shared-bottom, single-task, ple or snr"

struct ModelConfig {
  Architecture architecture = Architecture::kMmoe;
  uint32_t experts = 4;        // experts (PLE: shared experts per level; shared bottom: one layer of experts x expert_units)
  uint32_t task_experts = 1;   // PLE: experts of each task per level
  uint32_t levels = 2;         // PLE: CGC levels; SNR: expert layers
  float sparsity = 0.03f;      // SNR: L0 penalty per connection
  uint32_t expert_units = 32;  // ReLU units per expert
  uint32_t tower_units = 16;   // ReLU units per task tower
  uint32_t cluster_dim = 8;    // width of the learned cluster-id embedding
  uint32_t epochs = 4;
  uint32_t batch_size = 256;
  float learning_rate = 0.003f;  // Adam
  float l2 = 1e-5f;              // weight decay added to every gradient
  std::array<float, kNumTasks> task_weights{1, 1, 1, 1, 1, 1};  // loss weights (0 leaves a task out)
  bool uncertainty_weighting = false;  // also learn exp(-s_t) per task, multiplying task_weights
  int threads = 0;               // 0 = all cores
  uint64_t seed = 1;

  void Validate() const;       // throws kInvalidArgument naming the field
  std::string ToJson() const;  // every field but threads
  bool operator==(const ModelConfig&) const = default;
};

// Training rows, row-major. Standardisation of `dense` happens in the model.
struct Examples {
  size_t dense_dim = 0;
  size_t cluster_slots = 0;
  std::vector<float> dense;        // size() x dense_dim
  std::vector<uint32_t> clusters;  // size() x cluster_slots, each < cluster rows
  std::vector<uint8_t> clicked, interacted;
  std::vector<float> dwell_seconds;  // 0 if not clicked
  // 0, 1 or kUnobserved; empty: unobserved everywhere (older impression files).
  std::vector<uint8_t> negative, profile_visit;
  std::vector<uint8_t> completed;  // clicked videos: 0 or 1; kUnobserved otherwise

  size_t size() const { return clicked.size(); }
  // Whether row i is in task t's sample space, and its target there.
  bool Observed(size_t i, int task) const;
  double Target(size_t i, int task) const;
  void Reserve(size_t n);
};

struct TrainingReport {
  std::vector<std::array<double, kNumTasks>> epoch_loss;  // mean loss per task per epoch
  std::array<uint64_t, kNumTasks> task_examples{};        // examples in each task's sample space
  std::array<float, kNumTasks> loss_weights{};            // final weights (learned or given)
  uint32_t connections = 0, open_connections = 0;         // SNR: coding variables, and those not pruned (z > 0)
  uint64_t examples_seen = 0;
  double seconds = 0;
  double examples_per_second = 0;
  size_t parameters = 0;
};

// Predictions for one example: p(click), p(interaction), dwell seconds if
// clicked, p(negative), p(profile visit), p(completion | clicked video).
using TaskScores = std::array<float, kNumTasks>;

class MultiTaskModel {
 public:
  using Progress = std::function<void(uint32_t epoch, const std::array<double, kNumTasks>& loss)>;

  MultiTaskModel() = default;
  // Throws kInvalidArgument for an empty or inconsistent example set.
  static MultiTaskModel Train(const Examples& examples, uint32_t cluster_rows, const ModelConfig& config,
                              TrainingReport* report = nullptr, const Progress& progress = {});

  // Scores n examples (row-major inputs as in Examples) into out[0..n).
  void Predict(const float* dense, const uint32_t* clusters, size_t n, TaskScores* out) const;

  const ModelConfig& config() const { return config_; }
  size_t dense_dim() const { return mean_.size(); }
  size_t cluster_slots() const { return cluster_slots_; }
  size_t num_parameters() const;
  // The loss weight of each task at the end of training.
  const std::array<float, kNumTasks>& loss_weights() const { return loss_weights_; }

  // Sections "model.*" of a ranker file (core/binary_io.h).
  void Save(SectionWriter& writer) const;
  static MultiTaskModel Load(SectionReader& reader);

  bool operator==(const MultiTaskModel&) const = default;

  // One network; public only so the .cc can define its helpers.
  struct Network {
    uint32_t task_mask = 0;  // bit t: the network outputs task t
    Architecture architecture = Architecture::kMmoe;  // single task: an MMoE with one task
    uint32_t experts = 0, expert_units = 0, task_experts = 0, levels = 0;
    // Flat; layout from the dimensions. Every block starts on 64 bytes: Eigen's
    // reductions peel by alignment, so fixed alignment keeps results bit-identical.
    std::vector<float, AlignedAllocator<float, 64>> params;
    bool operator==(const Network&) const = default;
  };

 private:
  ModelConfig config_;
  size_t cluster_slots_ = 0;
  uint32_t cluster_rows_ = 0;
  std::vector<float> mean_, inv_std_;  // dense standardisation, from the training rows
  std::array<float, kNumTasks> loss_weights_{};
  std::vector<Network> networks_;
};

}  // namespace gr::ranking
