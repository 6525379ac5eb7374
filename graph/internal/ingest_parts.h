// Pieces shared by the file readers of graph/ingest.cc and graph/edge_list.cc:
// field checks, time decay, and the parallel id collector.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "graph/id_map.h"
#include "graph/internal/csr_build.h"
#include "graph/internal/id_table.h"
#include "graph/internal/text_parse.h"

namespace gr::graph::internal {

inline LineError CheckFieldCount(size_t n, size_t min, size_t max, const char* columns) {
  if (n >= min && n <= max) return {};
  return StrCat("expected ", min == max ? StrCat(min) : StrCat(min, "-", max), " fields (", columns,
                "), found ", n > kMaxFields ? "more" : StrCat(n));
}

inline LineError ParseId(std::string_view field, const char* what, ExternalId* out) {
  if (ParseU64(field, out)) return {};
  return StrCat("bad ", what, " '", Excerpt(field), "' (expected an unsigned 64-bit integer)");
}

// Absent or empty = 0 (unknown).
inline LineError ParseTime(std::string_view field, uint32_t* out) {
  uint64_t value = 0;
  if (field.empty()) {
    *out = 0;
    return {};
  }
  if (!ParseU64(field, &value) || value > UINT32_MAX)
    return StrCat("bad timestamp '", Excerpt(field), "' (expected Unix seconds, 0 to ", UINT32_MAX, ")");
  *out = static_cast<uint32_t>(value);
  return {};
}

// Floor of the decay factor: walk weights must stay > 0 in float, and data
// spanning years (Ciao: 11 years at a 7-day half-life) would underflow to 0.
constexpr double kMinDecay = 1e-30;

inline double Decay(uint32_t time, int64_t reference, double half_life_days) {
  if (half_life_days <= 0.0 || time == 0) return 1.0;
  const double age = std::max<double>(0.0, static_cast<double>(reference - time));
  return std::max(kMinDecay, std::exp2(-age / (half_life_days * 86400.0)));
}

inline double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <typename Records, typename MakeRow>
EdgeRows MakeRows(const Records& records, int threads, MakeRow make_row) {
  EdgeRows rows(records.size());
#pragma omp parallel for num_threads(ResolveThreads(threads)) schedule(static)
  for (size_t i = 0; i < records.size(); ++i) rows[i] = make_row(records[i]);
  return rows;
}

// Gathers the distinct external ids of one vertex kind in parallel (a hash
// table per thread), then builds the IdMap and a hash lookup into it.
class IdCollector {
 public:
  explicit IdCollector(int threads) : tables_(static_cast<size_t>(ResolveThreads(threads))) {}

  // Adds ids_of(record, emit) for every record; emit(ExternalId) adds one id.
  template <typename Records, typename IdsOf>
  void Add(const Records& records, IdsOf ids_of) {
    const size_t parts = tables_.size(), n = records.size();
#pragma omp parallel for num_threads(static_cast <int>(parts)) schedule(static, 1)
    for (size_t t = 0; t < parts; ++t) {
      IdTable& table = tables_[t];
      // Files are often grouped by their first column (a follower's lines
      // together): the two ids used last (recent[0] the latest) skip the table.
      ExternalId recent[2] = {0, 0};
      bool any = false;
      for (size_t i = n * t / parts; i < n * (t + 1) / parts; ++i)
        ids_of(records[i], [&](ExternalId id) {
          if (any && id == recent[0]) return;
          if (any && id == recent[1]) return std::swap(recent[0], recent[1]);
          table.Insert(id, 0);
          recent[1] = any ? recent[0] : id;
          recent[0] = id;
          any = true;
        });
    }
  }

  // The dictionary, and a lookup table from external to dense id.
  IdMap Finish(IdTable* lookup) {
    std::vector<ExternalId> ids;
    for (const auto& table : tables_) {
      const auto keys = table.Keys();
      ids.insert(ids.end(), keys.begin(), keys.end());
    }
    tables_.clear();
    IdMap map = IdMap::FromIds(std::move(ids));
    *lookup = IdTable(map.size());
    for (VertexId v = 0; v < map.size(); ++v) lookup->Insert(map.ToExternal(v), v);
    return map;
  }

 private:
  std::vector<IdTable> tables_;
};

}  // namespace gr::graph::internal
