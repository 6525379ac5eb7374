// The interleaved walk engine behind RandomWalker::Generate.
#include <omp.h>

#include <algorithm>

#include "core/error.h"
#include "core/parallel.h"
#include "core/prefetch.h"
#include "walk/internal/walker_impl.h"
#include "walk/random_walk.h"

namespace gr::walk {
namespace {

using internal::Accumulate;
using internal::Hop;

// The interleaved engine: one thread advances kSlots walks round-robin, one
// memory-bound stage at a time, prefetching what the next stage of each walk
// will read, so that many cache misses are in flight at once instead of one
// (the idea of ThunderRW). Each walk draws the same random numbers in the
// same order as RandomWalker::Walk, so the corpus is identical.
constexpr int kSlots = 64;

struct Slot {
  enum Stage : uint8_t {
    kIdle,
    kOffsets,  // cur's record (or offsets) prefetched: read the degree, pick a neighbour
    kTarget,   // the picked neighbour's id prefetched
    kTest,     // node2vec: the spots of prev's lists where the candidate would sit prefetched
    kCount,    // node2vec: the spots of cur's lists where prev would sit prefetched
  };
  Stage stage = kIdle;
  uint32_t k = 0;
  VertexId cur = 0;
  VertexId prev = 0;  // from the second step on
  uint64_t index = 0;
  uint64_t degree = 0;
  double return_low = 0, return_high = 0;  // node2vec: bounds of the return's excess mass, per step
  const VertexId* target = nullptr;
  VertexId candidate = 0;  // kTest: the proposed neighbour
  double draw = 0;         // kTest: its acceptance draw; kCount: the return draw
  VertexId* out = nullptr;
  FastRng rng{0};
};

// Moves slot's walk one stage on, drawing the same random numbers in the
// same order as RandomWalker::Walk. finish(slot) ends a walk. When node2vec's
// "is x adjacent to prev" decides a proposal, the lines of prev's lists
// where x would sit are prefetched and the test waits a round (kTest); it
// then searches outwards from there. The node2vec filter in prev's record settles most tests without the wait. A
// return draw that falls between its bounds (Impl::DrawReturn) waits a
// round likewise (kCount) for the count of edges back to prev.
template <typename Impl, typename Finish>
void Advance(const Impl& im, Slot& slot, size_t length, WalkStats& stats, Finish&& finish) {
  const Hop& hop = im.HopOfStep(slot.k);
  const bool second_order = im.node2vec && slot.k >= 2;
  const VertexId prev = slot.prev;
  auto step_to = [&](VertexId next) __attribute__((always_inline)) {
    slot.prev = slot.cur;
    slot.cur = next;
    slot.out[slot.k++] = im.TokenOf(next, hop.to);
    if (slot.k >= length) return finish(slot);
    slot.stage = Slot::kOffsets;
    im.HopOfStep(slot.k).PrefetchVertex(next);
  };
  // Steps back to prev (node2vec return outlier) or proposes a neighbour.
  auto return_or_propose = [&]() __attribute__((always_inline)) {
    if (second_order) {
      const auto draw =
          im.DrawReturnWithoutCount({slot.return_low, slot.return_high}, slot.rng, &slot.draw);
      if (draw == Impl::ReturnDraw::kReturn) return step_to(prev);
      if (draw == Impl::ReturnDraw::kNeedsCount) {
        hop.PrefetchAround(slot.cur, prev);
        slot.stage = Slot::kCount;
        return;
      }
    }
    slot.target = hop.Locate(slot.cur, hop.PickIndex(slot.cur, slot.degree, slot.rng));
    Prefetch(slot.target);
    slot.stage = Slot::kTarget;
  };
  if (slot.stage == Slot::kOffsets) {
    if (slot.k >= length) return finish(slot);
    slot.degree = hop.Degree(slot.cur);
    if (slot.degree == 0) {
      if (slot.k == 1)
        ++stats.isolated_starts;
      else
        ++stats.ended_early;
      return finish(slot);
    }
    if (second_order) {
      const auto bounds = im.ReturnExcessBounds(hop, slot.cur, prev, slot.degree);
      slot.return_low = bounds.low;
      slot.return_high = bounds.high;
    }
    return return_or_propose();
  }
  if (slot.stage == Slot::kCount) {
    const auto draw = im.ReturnWithCount(slot.draw, hop.CountFrom(slot.cur, prev), slot.degree);
    return draw == Impl::ReturnDraw::kReturn ? step_to(prev) : return_or_propose();
  }
  bool accepted = true;
  VertexId x;
  if (slot.stage == Slot::kTest) {
    x = slot.candidate;
    accepted = im.VerdictWithTest(hop.ContainsFrom(prev, x), slot.draw);
  } else {  // kTarget
    x = *slot.target;
    if (second_order) {
      const double draw = im.AcceptanceDraw(slot.rng);
      const auto verdict = im.VerdictWithoutTest(prev, x, draw);
      if (verdict != Impl::Verdict::kNeedsTest) {
        accepted = verdict == Impl::Verdict::kAccept;
      } else if (hop.has_filter() && !hop.MayBeAdjacent(prev, x)) {
        accepted = im.VerdictWithTest(false, draw);
      } else {
        slot.candidate = x;
        slot.draw = draw;
        hop.PrefetchAround(prev, x);
        slot.stage = Slot::kTest;
        return;
      }
    }
  }
  if (accepted) return step_to(x);
  ++stats.rejected_proposals;
  return_or_propose();
}

}  // namespace

WalkCorpus RandomWalker::Generate(uint64_t begin, uint64_t end, WalkStats* stats) const {
  GR_CHECK(begin <= end && end <= num_walks(), "walk range [", begin, ", ", end, ") outside [0, ",
           num_walks(), ")");
  const uint64_t n = end - begin;
  const size_t length = config_.walk_length;
  std::vector<VertexId> buffer(n * length);  // walk i at buffer[i * length], then compacted
  std::vector<uint32_t> lengths(n);
  WalkStats total;
  const Impl& im = *impl_;
  constexpr uint64_t kChunk = 4096;
  const int64_t chunks = static_cast<int64_t>((n + kChunk - 1) / kChunk);
#pragma omp parallel num_threads(ResolveThreads(config_.threads))
  {
    WalkStats local;
    Slot slots[kSlots];
#pragma omp for schedule(dynamic, 1)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      uint64_t next_index = static_cast<uint64_t>(chunk) * kChunk;
      const uint64_t chunk_end = std::min(n, next_index + kChunk);
      int active = 0;
      // Starts walk `i` (relative to begin) in `slot`; false if it is already complete.
      auto start = [&](Slot& slot, uint64_t i) {
        slot.index = i;
        slot.out = buffer.data() + i * length;
        slot.cur = im.StartOf(begin + i, config_.seed, &slot.rng);
        slot.out[0] = im.TokenOf(slot.cur, im.start_type);
        slot.k = 1;
        ++local.walks;
        slot.stage = Slot::kOffsets;
        im.HopOfStep(1).PrefetchVertex(slot.cur);
      };
      auto finish = [&](Slot& slot) {
        lengths[slot.index] = slot.k;
        local.steps += slot.k;
        slot.stage = Slot::kIdle;
        --active;
        if (next_index < chunk_end) {
          start(slot, next_index++);
          ++active;
        }
      };
      for (Slot& slot : slots) {
        if (next_index < chunk_end) {
          start(slot, next_index++);
          ++active;
        }
      }
      while (active > 0) {
        for (Slot& slot : slots) {
          if (slot.stage != Slot::kIdle) Advance(im, slot, length, local, finish);
        }
      }
    }
#pragma omp critical
    Accumulate(total, local);
  }
  WalkCorpus corpus;
  corpus.offsets.resize(n + 1);
  corpus.offsets[0] = 0;
  for (uint64_t i = 0; i < n; ++i) corpus.offsets[i + 1] = corpus.offsets[i] + lengths[i];
  if (corpus.offsets[n] == n * length) {
    corpus.tokens = std::move(buffer);
  } else {
    corpus.tokens.resize(corpus.offsets[n]);
    for (uint64_t i = 0; i < n; ++i)
      std::copy_n(buffer.begin() + static_cast<int64_t>(i * length), lengths[i],
                  corpus.tokens.begin() + static_cast<int64_t>(corpus.offsets[i]));
  }
  if (stats != nullptr) Accumulate(*stats, total);
  return corpus;
}

}  // namespace gr::walk
