#include "walk/internal/hop.h"

#include "core/alias_table.h"
#include "core/error.h"
#include "core/huge_pages.h"
#include "core/parallel.h"

namespace gr::walk::internal {

void Hop::BuildRecords(size_t num_vertices, bool with_filter, int threads) {
  for (const graph::CsrGraph* part : {first, second}) {
    GR_CHECK(
        part == nullptr || part->num_edges() <= UINT32_MAX,
        "the walk engine addresses at most 2^32 - 1 follow edges per direction, the graph has ",
        part->num_edges());
  }
  record_words = with_filter ? kFilteredRecordWords : kRecordWords;
  record_lines.assign((num_vertices * record_words + 15) / 16, RecordLine{});
  auto* words = reinterpret_cast<uint32_t*>(record_lines.data());
#pragma omp parallel for num_threads(ResolveThreads(threads)) schedule(dynamic, 4096)
  for (size_t vi = 0; vi < num_vertices; ++vi) {
    const auto v = static_cast<VertexId>(vi);
    uint32_t* record = words + vi * record_words;
    record[0] = static_cast<uint32_t>(first->Begin(v));
    record[2] = static_cast<uint32_t>(first->Degree(v));
    if (second != nullptr) {
      record[1] = static_cast<uint32_t>(second->Begin(v));
      record[3] = static_cast<uint32_t>(second->Degree(v));
    }
    if (!with_filter) continue;
    for (const graph::CsrGraph* part : {first, second}) {
      if (part == nullptr) continue;
      for (const VertexId x : part->Neighbors(v)) {
        const uint32_t bit = FilterBit(x);
        record[kRecordWords + bit / 32] |= 1u << (bit % 32);
      }
    }
  }
}

void Hop::AdviseHugePages() const {
  for (const graph::CsrGraph* part : {first, second}) {
    if (part == nullptr) continue;
    gr::AdviseHugePages(std::span<const VertexId>(part->targets));
    if (!has_records()) gr::AdviseHugePages(std::span<const EdgeIndex>(part->offsets));
  }
  gr::AdviseHugePages(std::span<const RecordLine>(record_lines));
  gr::AdviseHugePages(std::span<const float>(alias_prob));
  gr::AdviseHugePages(std::span<const uint32_t>(alias_index));
}

void Hop::BuildAliasTables(size_t num_vertices, int threads) {
  weighted = true;
  const uint64_t total = first->num_edges() + (second ? second->num_edges() : 0);
  alias_prob.assign(total, 1.0f);
  alias_index.assign(total, 0);
  weight_sum.assign(num_vertices, 0.0);
  FillAliasTablesOfLists(
      num_vertices, [&](size_t v) { return Base(static_cast<VertexId>(v)); },
      [&](size_t v) { return Degree(static_cast<VertexId>(v)); },
      [&](size_t v, uint64_t i) -> double { return WeightAt(static_cast<VertexId>(v), i); }, alias_prob, alias_index,
      weight_sum, threads);
}

}  // namespace gr::walk::internal
