#include "service/refresher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/rng.h"
#include "graph/live_graph.h"
#include "recall/recall.h"

namespace gr::service {

const std::vector<float>* RefreshedVectors::Find(const std::string& model_version, ExternalId account) const {
  if (model_version != version) return nullptr;
  const auto it = input.find(account);
  return it == input.end() ? nullptr : it->second.get();
}

namespace {

FloatMatrix RowsOf(const std::vector<float>& values, size_t dim) {
  FloatMatrix rows(values.size() / dim, dim);
  std::copy(values.begin(), values.end(), rows.Data().begin());
  return rows;
}

// How far the vectors refreshed over `old` are from `model`'s (the version
// that supersedes them), and how far the old version's own were.
RefreshDrift DriftOf(const RefreshedVectors& old, const Model& model) {
  RefreshDrift drift{.from_version = old.version, .to_version = model.version};
  for (const auto& [account, refreshed] : old.input) {
    const auto row = model.account_row.find(account);
    if (row == model.account_row.end()) continue;
    const auto nightly = model.table.input.Row(row->second);
    ++drift.accounts;
    drift.refreshed_cosine += Cosine(*refreshed, nightly);
    if (const auto stale = old.version_input.find(account); stale != old.version_input.end()) {
      ++drift.stale_accounts;
      drift.stale_cosine += Cosine(*stale->second, nightly);
    }
  }
  if (drift.accounts > 0) drift.refreshed_cosine /= static_cast<double>(drift.accounts);
  if (drift.stale_accounts > 0) drift.stale_cosine /= static_cast<double>(drift.stale_accounts);
  return drift;
}

}  // namespace

Refresher::Refresher(const embed::RowRefreshConfig& config, uint32_t walk_length, const embed::PostVectorRule& post_rule)
    : config_(config),
      walk_length_(walk_length),
      post_rule_(post_rule),
      vectors_(std::make_shared<const RefreshedVectors>()) {
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
    if (!current->input.empty()) {
      report.drift = DriftOf(*current, model);
      last_drift_.store(std::make_shared<const RefreshDrift>(*report.drift));
      spdlog::info("version {} supersedes {} refreshed vectors of {}: mean cosine to its vectors {:.4f} refreshed, "
                   "{:.4f} as the old version had them ({} accounts)",
                   model.version, report.drift->accounts, current->version, report.drift->refreshed_cosine,
                   report.drift->stale_cosine, report.drift->stale_accounts);
    }
    auto fresh = std::make_shared<RefreshedVectors>();
    fresh->version = model.version;
    current = fresh;
  }
  if (negatives_version_ != model.version) {
    negatives_ = AliasTable(embed::DegreeNegativeWeights(model.graph, walk::Direction::kBoth));
    version_has_post_rows_ = std::ranges::any_of(model.table.kinds, [](embed::TokenKind k) { return k == embed::TokenKind::kPost; });
    negatives_version_ = model.version;
  }
  if (touched.accounts.empty() && touched.posts.empty()) {
    if (current != vectors_.load()) vectors_.store(current);  // a new version: drop the old one's vectors
    RecordPass(report, start);
    return report;
  }
  if (model.table.output.rows() != model.table.rows()) {  // skip-gram needs the output vectors
    if (current != vectors_.load()) vectors_.store(current);
    RecordPass(report, start);
    return report;
  }
  const size_t dim = model.table.dim();
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
  std::vector<std::shared_ptr<const std::vector<float>>> version_vectors;  // parallel to ids; null if new
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
    std::shared_ptr<const std::vector<float>> version_vector;
    // Every refresh starts from the version's vector (a new account's: its
    // neighbours' mean), not from the last refresh: one refresh's noise at a
    // constant learning rate is fine, a day of them piled up is not
    // (bench/README.md, refresher replay).
    if (const size_t* row = row_of(v)) {
      const auto version_row = model.table.input.Row(*row);
      std::copy(version_row.begin(), version_row.end(), vector.begin());
      version_vector = std::make_shared<const std::vector<float>>(vector);
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
    version_vectors.push_back(std::move(version_vector));
  }
  for (size_t i = 0; i < buffers.size(); ++i) rows.push_back({graph.FindAccount(ids[i]), buffers[i].data()});
  // Walks along follows, both directions, over the live graph, as the
  // batch's walks, except that a share of each row's walks takes one of the
  // row's new follows as its first hop (config_.new_edge_share, as the
  // batch's fold-in: embed/row_refresh.h).
  const auto walk_from = [&](VertexId first, uint64_t round, std::span<VertexId> out) -> size_t {
    Rng rng = Rng::ForItem(config_.seed ^ 0x7e57, first, round);
    out[0] = first;
    size_t n = 1;
    for (; n < out.size(); ++n) {
      const VertexId at = out[n - 1];
      const uint64_t followees = graph.FolloweeCount(at), degree = followees + graph.FollowerCount(at);
      if (degree == 0) break;
      uint64_t pick = rng.Uniform(degree);
      if (n == 1 && static_cast<double>(round) < config_.new_edge_share * config_.walks_per_row) {
        // The first hop along a follow made since the version (lists keep
        // the version's entries first).
        const bool in_version = first < model.graph.num_accounts();
        const uint64_t old_followees = in_version ? model.graph.following.Degree(first) : 0;
        const uint64_t old_followers = in_version ? model.graph.followers.Degree(first) : 0;
        const uint64_t new_followees = followees - old_followees, new_followers = degree - followees - old_followers;
        if (new_followees + new_followers > 0) {
          const uint64_t k = rng.Uniform(new_followees + new_followers);
          pick = k < new_followees ? old_followees + k : followees + old_followers + (k - new_followees);
        }
      }
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
  auto lap = std::chrono::steady_clock::now();
  const auto seconds_since_lap = [&lap] {
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - lap).count();
    lap = now;
    return seconds;
  };
  report.setup_seconds = std::chrono::duration<double>(lap - start).count();
  const embed::RowRefreshStats stats =
      embed::RefreshRows(walk_from, walk_length_, rows, negatives_, config_, dim, output_of);
  report.training_seconds = seconds_since_lap();
  // Others find the refreshed accounts by their new vectors: an index
  // shard takes its own accounts (every shard refreshes every touched
  // account, so that each searches with the same query vector).
  std::vector<size_t> indexed;
  for (size_t i = 0; i < ids.size(); ++i)
    if (model.shard.Holds(ids[i])) indexed.push_back(i);
  if (!indexed.empty()) {
    std::vector<ExternalId> indexed_ids;
    FloatMatrix refreshed(indexed.size(), dim);
    for (size_t j = 0; j < indexed.size(); ++j) {
      indexed_ids.push_back(ids[indexed[j]]);
      std::copy_n(buffers[indexed[j]].data(), dim, refreshed.Row(j).data());
    }
    model.recaller->Update(recall::RecallKind::kSimilarAccounts, indexed_ids, refreshed);
  }
  report.index_seconds = seconds_since_lap();
  auto next = std::make_shared<RefreshedVectors>(*current);
  for (size_t i = 0; i < ids.size(); ++i) {
    next->input[ids[i]] = std::make_shared<const std::vector<float>>(std::move(buffers[i]));
    if (version_vectors[i] != nullptr) next->version_input[ids[i]] = version_vectors[i];
  }
  ++next->passes;
  report.publish_seconds = seconds_since_lap();
  UpdateAuthorsAndPosts(live, touched, *next, report);
  report.index_seconds += seconds_since_lap();
  vectors_.store(std::move(next));
  report.refreshed = ids.size();
  RecordPass(report, start);
  spdlog::debug("refresh pass: {} accounts touched, {} refreshed ({} new), {} pairs, {} new authors, {} posts "
                "indexed in {:.3f} s (setup {:.3f}, training {:.3f}, indices {:.3f}, publishing {:.3f})",
                report.touched, report.refreshed, report.new_accounts, stats.pairs, report.new_authors,
                report.posts_indexed, report.seconds, report.setup_seconds, report.training_seconds,
                report.index_seconds, report.publish_seconds);
  return report;
}

void Refresher::UpdateAuthorsAndPosts(const LiveState& live, const Touched& touched, const RefreshedVectors& vectors,
                                      RefreshPassReport& report) {
  const Model& model = *live.model;
  const graph::LiveGraph& graph = *live.graph;
  recall::Recaller& recaller = *model.recaller;
  const size_t dim = model.table.dim();
  const auto row_of = [&](ExternalId account) -> const size_t* {
    const auto it = model.account_row.find(account);
    return it == model.account_row.end() ? nullptr : &it->second;
  };
  const auto input_of = [&](VertexId v) -> const float* {
    const ExternalId account = graph.AccountId(v);
    if (const std::vector<float>* refreshed = vectors.Find(model.version, account)) return refreshed->data();
    const size_t* row = row_of(account);
    return row == nullptr ? nullptr : model.table.input.Row(*row).data();
  };

  // Accounts that post and are not authors in the index yet: their output
  // vector, or a new account's neighbours' mean (it has none of its own).
  if (recaller.IndexSize(recall::RecallKind::kAuthors) > 0) {
    std::vector<ExternalId> authors;
    std::vector<float> rows;
    for (const ExternalId account : touched.accounts) {
      const VertexId v = graph.FindAccount(account);
      if (!model.shard.Holds(account) || v == kNoVertex || graph.AuthoredCount(v) == 0 ||
          recaller.IndexedVector(recall::RecallKind::kAuthors, account))
        continue;
      std::vector<float> output(dim, 0.0f);
      if (const size_t* row = row_of(account)) {
        const auto own = model.table.output.Row(*row);
        std::copy(own.begin(), own.end(), output.begin());
      } else {
        size_t known = 0;
        for (const auto& neighbours : {graph.Followees(v), graph.Followers(v)})
          for (const graph::LiveEdge& e : neighbours) {
            const size_t* neighbour = e.target == kNoVertex ? nullptr : row_of(graph.AccountId(e.target));
            if (neighbour == nullptr) continue;
            const auto x = model.table.output.Row(*neighbour);
            for (size_t i = 0; i < dim; ++i) output[i] += x[i];
            ++known;
          }
        if (known == 0) continue;
        for (float& x : output) x /= static_cast<float>(known);
      }
      authors.push_back(account);
      rows.insert(rows.end(), output.begin(), output.end());
    }
    if (!authors.empty()) {
      recaller.Update(recall::RecallKind::kAuthors, authors, RowsOf(rows, dim));
      report.new_authors = authors.size();
    }
  }

  // Posts without a trained row: the rule over the live graph. A version
  // with post rows trained those with min_interactions engagers then (kept).
  if (recaller.IndexSize(recall::RecallKind::kPosts) == 0) return;  // a version without posts has no index
  std::vector<ExternalId> posts;
  std::vector<float> rows;
  std::vector<float> vector(dim);
  for (const ExternalId post : touched.posts) {
    const VertexId p = graph.FindPost(post);
    if (p == kNoVertex || !model.shard.Holds(post)) continue;
    if (version_has_post_rows_ && p < model.graph.num_posts() &&
        model.graph.engagers.Degree(p) >= post_rule_.min_interactions)
      continue;
    std::vector<graph::LiveEdge> engagers = graph.Engagers(p);
    const size_t take = std::min<size_t>(post_rule_.first_engagers, engagers.size());
    std::partial_sort(engagers.begin(), engagers.begin() + static_cast<int64_t>(take), engagers.end(),
                      [](const graph::LiveEdge& a, const graph::LiveEdge& b) {
                        return std::pair(a.time, a.target) < std::pair(b.time, b.target);
                      });
    std::vector<const float*> engager_vectors;
    for (size_t i = 0; i < take; ++i) engager_vectors.push_back(input_of(engagers[i].target));
    const VertexId author = graph.PostAuthor(p);
    if (!embed::ColdPostVector(author == kNoVertex ? nullptr : input_of(author), engager_vectors, post_rule_, vector))
      continue;
    posts.push_back(post);
    rows.insert(rows.end(), vector.begin(), vector.end());
  }
  if (posts.empty()) return;
  recaller.Update(recall::RecallKind::kPosts, posts, RowsOf(rows, dim));
  report.posts_indexed = posts.size();
  indexed_posts_ += posts.size();
}

}  // namespace gr::service
