#include "service/refresher.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "core/rng.h"
#include "graph/live_graph.h"

namespace gr::service {

const std::vector<float>* RefreshedVectors::Find(const std::string& model_version, ExternalId account) const {
  if (model_version != version) return nullptr;
  const auto it = input.find(account);
  return it == input.end() ? nullptr : it->second.get();
}

Refresher::Refresher(const embed::RowRefreshConfig& config, uint32_t walk_length)
    : config_(config), walk_length_(walk_length), vectors_(std::make_shared<const RefreshedVectors>()) {
  config_.Validate();
}

void Refresher::RecordPass(RefreshPassReport& report, std::chrono::steady_clock::time_point start) {
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ++passes_;
  refreshed_accounts_ += report.refreshed;
  last_pass_seconds_ = report.seconds;
  last_pass_end_ = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

RefreshPassReport Refresher::Pass(const LiveState& live, const Touched& touched) {
  const auto start = std::chrono::steady_clock::now();
  const Model& model = *live.model;
  const graph::LiveGraph& graph = *live.graph;
  RefreshPassReport report;
  report.touched = touched.accounts.size();
  std::shared_ptr<const RefreshedVectors> current = vectors_.load();
  if (current->version != model.version) {  // a new version supersedes what was refreshed
    auto fresh = std::make_shared<RefreshedVectors>();
    fresh->version = model.version;
    current = fresh;
  }
  if (touched.accounts.empty() || model.table.output.rows() != model.table.rows()) {
    if (current != vectors_.load()) vectors_.store(current);  // a new version: drop the old one's vectors
    RecordPass(report, start);
    return report;
  }
  const size_t dim = model.table.dim();
  if (negatives_version_ != model.version) {
    negatives_ = AliasTable(embed::DegreeNegativeWeights(model.graph, walk::Direction::kBoth));
    negatives_version_ = model.version;
  }
  // A token is a live-graph account id (the version's accounts keep theirs).
  const auto row_of = [&](VertexId token) -> const size_t* {
    const auto it = model.account_row.find(graph.AccountId(token));
    return it == model.account_row.end() ? nullptr : &it->second;
  };
  const auto input_of = [&](VertexId token) -> const float* {
    if (const std::vector<float>* refreshed = current->Find(model.version, graph.AccountId(token)))
      return refreshed->data();
    const size_t* row = row_of(token);
    return row == nullptr ? nullptr : model.table.input.Row(*row).data();
  };
  std::vector<std::vector<float>> buffers;
  std::vector<embed::RowToRefresh> rows;
  std::vector<ExternalId> ids;
  buffers.reserve(touched.accounts.size());
  for (const ExternalId account : touched.accounts) {
    const VertexId v = graph.FindAccount(account);
    if (v == kNoVertex) continue;
    // Only a changed follow neighbourhood changes the walks (an unfollow
    // alone is not seen yet: lists keep the entry, marked).
    const bool in_version = v < model.graph.num_accounts();
    if (in_version && graph.FolloweeCount(v) == model.graph.following.Degree(v) &&
        graph.FollowerCount(v) == model.graph.followers.Degree(v)) {
      ++report.unchanged;
      continue;
    }
    std::vector<float> vector(dim, 0.0f);
    if (const float* known = input_of(v)) {
      std::copy_n(known, dim, vector.begin());
    } else {
      // A new account: the mean of its neighbours' vectors.
      size_t known_neighbours = 0;
      for (const auto& neighbours : {graph.Followees(v), graph.Followers(v)}) {
        for (const graph::LiveEdge& e : neighbours) {
          const float* x = input_of(e.target);
          if (x == nullptr) continue;
          for (size_t i = 0; i < dim; ++i) vector[i] += x[i];
          ++known_neighbours;
        }
      }
      if (known_neighbours == 0) {
        ++report.skipped;
        continue;
      }
      for (float& x : vector) x /= static_cast<float>(known_neighbours);
      ++report.new_accounts;
    }
    buffers.push_back(std::move(vector));
    ids.push_back(account);
  }
  for (size_t i = 0; i < buffers.size(); ++i) rows.push_back({graph.FindAccount(ids[i]), buffers[i].data()});
  // Uniform walks along follows, both directions, over the live graph, as
  // the batch's walks (a first hop only along new follows over-fitted the
  // rows to them: bench/README.md).
  const auto walk_from = [&](VertexId first, uint64_t round, std::span<VertexId> out) -> size_t {
    Rng rng = Rng::ForItem(config_.seed ^ 0x7e57, first, round);
    out[0] = first;
    size_t n = 1;
    for (; n < out.size(); ++n) {
      const VertexId at = out[n - 1];
      const uint64_t followees = graph.FolloweeCount(at), degree = followees + graph.FollowerCount(at);
      if (degree == 0) break;
      const uint64_t pick = rng.Uniform(degree);
      const VertexId next = pick < followees ? graph.FolloweeAt(at, pick) : graph.FollowerAt(at, pick - followees);
      if (next == kNoVertex) break;  // an unfollowed entry: end the walk here
      out[n] = next;
    }
    return n;
  };
  const auto output_of = [&](VertexId token) -> const float* {
    if (token >= graph.num_accounts()) return nullptr;
    const size_t* row = row_of(token);
    return row == nullptr ? nullptr : model.table.output.Row(*row).data();
  };
  const embed::RowRefreshStats stats =
      embed::RefreshRows(walk_from, walk_length_, rows, negatives_, config_, dim, output_of);
  auto next = std::make_shared<RefreshedVectors>(*current);
  for (size_t i = 0; i < ids.size(); ++i)
    next->input[ids[i]] = std::make_shared<const std::vector<float>>(std::move(buffers[i]));
  ++next->passes;
  vectors_.store(std::move(next));
  report.refreshed = ids.size();
  RecordPass(report, start);
  spdlog::debug("refresh pass: {} accounts touched, {} refreshed ({} new), {} pairs in {:.3f} s", report.touched,
                report.refreshed, report.new_accounts, stats.pairs, report.seconds);
  return report;
}

}  // namespace gr::service
