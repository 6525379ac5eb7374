#include "embed/skip_gram_trainer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "core/alias_table.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/prefetch.h"
#include "core/rng.h"
#include "embed/skip_gram_kernel.h"
#include "embed/warm_start.h"

namespace gr::embed {
namespace {

// Scratch space of one thread.
// One centre's random draws: its window and its output rows.
struct CentreDraw {
  size_t window = 0;              // context distance drawn in [1, config window]
  std::vector<VertexId> outputs;  // the centre, then its negatives
};

struct Scratch {
  std::vector<VertexId> kept;       // the walk after subsampling
  std::vector<VertexId> contexts;   // context tokens of one centre
  CentreDraw current, next;         // draws of the centre being trained and the next one
  std::vector<float> input_update;  // accumulated update of one context's input vector
};

}  // namespace

class SkipGramTrainer::Impl {
 public:
  Impl(std::span<const uint64_t> counts, uint64_t scheduled_tokens, const SkipGramConfig& config,
       const WarmStart* warm)
      : config_(config), d_(config.dim), scheduled_(std::max<uint64_t>(scheduled_tokens, 1)) {
    const size_t vocabulary = counts.size();
    result_.input = FloatMatrix(vocabulary, d_);
    result_.output = FloatMatrix(vocabulary, d_);
    ParallelFor(static_cast<int64_t>(vocabulary), config.threads, 4096, [&](int64_t v) {
      InitialInputRow(config_.seed, static_cast<uint64_t>(v), result_.input.Row(static_cast<size_t>(v)));
      if (warm != nullptr && warm->known[static_cast<size_t>(v)]) {
        std::copy_n(warm->input.Row(static_cast<size_t>(v)).data(), d_, result_.input.Row(static_cast<size_t>(v)).data());
        std::copy_n(warm->output.Row(static_cast<size_t>(v)).data(), d_, result_.output.Row(static_cast<size_t>(v)).data());
      }
    });
    for (uint64_t c : counts) total_ += c;
    std::vector<double> weights(vocabulary, 0.0);
    for (size_t v = 0; v < vocabulary; ++v) weights[v] = NegativeWeight(counts[v]);
    keep_ = KeepProbabilities(counts, total_, config.subsample);
    GR_CHECK(total_ > 0, "the walk corpus is empty");
    negatives_ = AliasTable(weights);
  }

  void Train(const WalkBatch& batch, uint32_t epoch) {
    const auto n = static_cast<int64_t>(batch.num_walks());
#pragma omp parallel num_threads(ResolveThreads(config_.threads))
    {
      Scratch scratch;
      uint64_t trained = 0;
#pragma omp for schedule(dynamic, 16)
      for (int64_t w = 0; w < n; ++w) {
        const auto i = static_cast<size_t>(w);
        const uint64_t number = batch.numbers.empty() ? batch.first_number + i : batch.numbers[i];
        Rng rng = Rng::ForItem(config_.seed ^ 0x5eed, number, epoch);
        trained += TrainWalk(batch.tokens.subspan(batch.offsets[i], batch.offsets[i + 1] - batch.offsets[i]), rng,
                             scratch);
      }
      trained_ += trained;
    }
  }

  SkipGramResult& result() { return result_; }
  float learning_rate() const { return config_.learning_rate; }
  uint64_t total() const { return total_; }
  uint64_t processed() const { return processed_.load(); }
  uint64_t trained() const { return trained_.load(); }

 private:
  float LearningRate() const {
    const double progress = static_cast<double>(processed_.load(std::memory_order_relaxed)) /
                            static_cast<double>(scheduled_);
    return config_.learning_rate * static_cast<float>(std::max(1e-4, 1.0 - progress));
  }

  // Returns the number of centre tokens trained.
  uint64_t TrainWalk(std::span<const VertexId> walk, Rng& rng, Scratch& s) {
    processed_.fetch_add(walk.size(), std::memory_order_relaxed);
    s.kept.clear();
    SubsampleWalk(walk, keep_, rng, s.kept);  // tokens were range-checked by the counting pass
    const float lr = LearningRate();
    const size_t n = s.kept.size();
    if (n < 2) {  // a lone token has no context: its window is drawn, nothing trains
      if (n == 1) rng.Uniform(config_.window);
      return n;
    }
    // Each centre's window and negatives are drawn one centre ahead, in the
    // same order as drawing them just before training it (the trainer draws
    // nothing else), so the vectors are the same; meanwhile the rows the next
    // centre will read are requested from memory.
    DrawCentre(0, rng, s.current, s);
    for (size_t c = 0; c < n; ++c) {
      if (c + 1 < n) {
        DrawCentre(c + 1, rng, s.next, s);
        PrefetchRows(c + 1, s.next, s);
      }
      const size_t b = s.current.window;
      s.contexts.clear();
      for (size_t j = c >= b ? c - b : 0; j <= std::min(n - 1, c + b); ++j)
        if (j != c) s.contexts.push_back(s.kept[j]);
      for (VertexId context : s.contexts) TrainPair(context, s.current.outputs, s, lr);
      std::swap(s.current, s.next);
    }
    return n;
  }

  // Centre c's window and outputs (the centre, then the negatives that differ from it).
  void DrawCentre(size_t c, Rng& rng, CentreDraw& draw, const Scratch& s) const {
    draw.window = static_cast<size_t>(1 + rng.Uniform(config_.window));
    draw.outputs.assign(1, s.kept[c]);
    for (uint32_t k = 0; k < config_.negatives; ++k) {
      const VertexId neg = negatives_.Sample(rng);
      if (neg != s.kept[c]) draw.outputs.push_back(neg);
    }
  }

  // Requests centre c's output rows and the input row entering its window.
  void PrefetchRows(size_t c, const CentreDraw& draw, const Scratch& s) const {
    const size_t row_bytes = d_ * sizeof(float);
    const auto prefetch_row = [&](const float* row) {
      for (size_t line = 0; line < row_bytes; line += 64) Prefetch(reinterpret_cast<const char*>(row) + line);
    };
    for (const VertexId t : draw.outputs) prefetch_row(result_.output.Row(t).data());
    if (c + draw.window < s.kept.size()) prefetch_row(result_.input.Row(s.kept[c + draw.window]).data());
  }

  void TrainPair(VertexId context, const std::vector<VertexId>& outputs, Scratch& s, float lr) {
    s.input_update.resize(d_);
    TrainContextAgainstOutputs(
        result_.input.Row(context).data(), outputs.size(),
        [&](size_t j) { return result_.output.Row(outputs[j]).data(); }, d_, lr, s.input_update.data());
  }

  const SkipGramConfig config_;
  const size_t d_;
  const uint64_t scheduled_;  // tokens to be processed in all epochs: the learning-rate schedule
  SkipGramResult result_;
  std::vector<float> keep_;  // subsampling: probability of keeping each token
  AliasTable negatives_;
  uint64_t total_ = 0;  // corpus tokens in one pass
  std::atomic<uint64_t> processed_{0};
  std::atomic<uint64_t> trained_{0};
};


void CheckWarmStartShape(const WarmStart* warm, size_t vocabulary, uint32_t dim) {
  if (warm == nullptr) return;
  GR_CHECK(warm->input.rows() == vocabulary && warm->output.rows() == vocabulary && warm->known.size() == vocabulary,
           "warm start has ", warm->input.rows(), " rows for a vocabulary of ", vocabulary);
  GR_CHECK(warm->input.cols() == dim, "warm start vectors have ", warm->input.cols(), " dimensions, training asks for ",
           dim);
}

SkipGramTrainer::SkipGramTrainer(std::span<const uint64_t> counts, uint64_t scheduled_tokens,
                                 const SkipGramConfig& config, const WarmStart* warm)
    : impl_(std::make_unique<Impl>(counts, scheduled_tokens, config, warm)) {}
SkipGramTrainer::~SkipGramTrainer() = default;

void SkipGramTrainer::Train(const WalkBatch& batch, uint32_t epoch) { impl_->Train(batch, epoch); }
FloatMatrix& SkipGramTrainer::input() { return impl_->result().input; }
FloatMatrix& SkipGramTrainer::output() { return impl_->result().output; }
uint64_t SkipGramTrainer::processed() const { return impl_->processed(); }
uint64_t SkipGramTrainer::trained() const { return impl_->trained(); }
uint64_t SkipGramTrainer::corpus_tokens() const { return impl_->total(); }

SkipGramResult SkipGramTrainer::Take() {
  SkipGramResult result = std::move(impl_->result());
  for (const FloatMatrix* m : {&result.input, &result.output}) {
    for (float x : m->Data())
      GR_CHECK_CODE(std::isfinite(x), ErrorCode::kInternal,
                    "skip-gram training diverged (NaN or infinite vectors): check the warm-start ",
                    "vectors for non-finite values, or lower the learning rate (", impl_->learning_rate(), ")");
  }
  return result;
}

}  // namespace gr::embed
