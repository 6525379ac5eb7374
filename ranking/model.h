// MultiTaskModel: a multi-task network in the MMoE family (Ma et al., KDD
// 2018) for three tasks with different sample spaces:
//   click        logistic, every impression
//   interaction  logistic, every impression (sparse positives)
//   dwell        regression on log(1 + dwell seconds), clicked impressions only
//
// Input x = standardised dense features ++ learned embeddings of the cluster
// ids (one table shared by the account, post and author slots).
//   MMoE:          E ReLU experts h_e(x); per task a softmax gate g_t(x) over
//                  the experts and a tower (one ReLU layer, one output) on
//                  sum_e g_t,e(x) h_e(x).
//   shared bottom: one ReLU layer of E x units shared by the three towers.
//   single task:   three independent networks, each an MMoE trained on one
//                  task only (the baseline MMoE must beat on sparse tasks).
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

inline constexpr int kNumTasks = 3;
enum Task : int { kClickTask = 0, kInteractionTask = 1, kDwellTask = 2 };
const char* TaskName(int task);  // "click", "interaction", "dwell"

enum class Architecture { kMmoe, kSharedBottom, kSingleTask };
const char* ArchitectureName(Architecture architecture);  // "mmoe", "shared-bottom", "single-task"
std::optional<Architecture> ParseArchitecture(std::string_view name);

struct ModelConfig {
  Architecture architecture = Architecture::kMmoe;
  uint32_t experts = 4;        // MMoE experts (shared bottom: one layer of experts x expert_units)
  uint32_t expert_units = 32;  // ReLU units per expert
  uint32_t tower_units = 16;   // ReLU units per task tower
  uint32_t cluster_dim = 8;    // width of the learned cluster-id embedding
  uint32_t epochs = 4;
  uint32_t batch_size = 256;
  float learning_rate = 0.003f;  // Adam
  float l2 = 1e-5f;              // weight decay added to every gradient
  std::array<float, kNumTasks> task_weights{1.0f, 1.0f, 1.0f};  // loss weights
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

  size_t size() const { return clicked.size(); }
  void Reserve(size_t n);
};

struct TrainingReport {
  std::vector<std::array<double, kNumTasks>> epoch_loss;  // mean loss per task per epoch
  uint64_t examples_seen = 0;
  double seconds = 0;
  double examples_per_second = 0;
  size_t parameters = 0;
};

// Predictions for one example: p(click), p(interaction), dwell seconds if clicked.
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

  // Sections "model.*" of a ranker file (core/binary_io.h).
  void Save(SectionWriter& writer) const;
  static MultiTaskModel Load(SectionReader& reader);

  bool operator==(const MultiTaskModel&) const = default;

  // One network; public only so the .cc can define its helpers.
  struct Network {
    uint32_t task_mask = 0;  // bit t: the network outputs task t
    uint32_t experts = 0, expert_units = 0;
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
  std::vector<Network> networks_;
};

}  // namespace gr::ranking
