#include "dist/partitioned_index_items.h"

#include <algorithm>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "dist/mpi_session.h"

namespace gr::dist {
namespace {

// A post as its vector depends on it: (post, interactions, has author,
// author, engagers given, then `first_engagers` slots: the earliest
// engagers by time, ties by id, as embed::BuildPostVectors picks them).
constexpr size_t kPostFields = 5;

std::vector<uint64_t> PostRecords(const PartitionedPosts& posts, size_t first_engagers) {
  std::vector<uint64_t> records;
  records.reserve(posts.posts.size() * (kPostFields + first_engagers));
  const PartitionedLists& engaged = posts.engaged_by;
  std::vector<std::pair<uint32_t, ExternalId>> engagers;
  for (size_t i = 0; i < posts.posts.size(); ++i) {
    engagers.clear();
    for (uint64_t e = engaged.offsets[i]; e < engaged.offsets[i + 1]; ++e)
      engagers.emplace_back(engaged.times.empty() ? 0u : engaged.times[e], engaged.targets[e]);
    const size_t take = std::min(first_engagers, engagers.size());
    std::partial_sort(engagers.begin(), engagers.begin() + static_cast<ptrdiff_t>(take), engagers.end());
    const bool has_author = posts.authored_by.Degree(i) > 0;
    records.insert(records.end(), {posts.posts[i], engaged.Degree(i), has_author ? 1u : 0u,
                                   has_author ? posts.authored_by.targets[posts.authored_by.offsets[i]] : 0, take});
    for (size_t k = 0; k < first_engagers; ++k) records.push_back(k < take ? engagers[k].second : 0);
  }
  return records;
}

// The rows of `ids` in `vectors`, as index items.
recall::IndexItems Items(const std::vector<ExternalId>& ids, const std::vector<size_t>& rows, const FloatMatrix& vectors) {
  recall::IndexItems items{.ids = ids, .vectors = FloatMatrix(ids.size(), vectors.cols())};
  for (size_t i = 0; i < rows.size(); ++i) std::ranges::copy(vectors.Row(rows[i]), items.vectors.Row(i).begin());
  return items;
}

}  // namespace

recall::RecallIndexItems CollectIndexItemsOnRoot(const PartitionedFollows& follows, const PartitionedPosts& posts,
                                                 const embed::EmbeddingTable* table,
                                                 const embed::PostVectorRule& rule,
                                                 const recall::RecallIndexKinds& kinds, MPI_Comm comm) {
  GR_CHECK(rule.author_weight >= 0, "author_weight must be >= 0, got ", rule.author_weight);
  const size_t slots = rule.first_engagers;
  std::vector<uint64_t> accounts;  // (account, posted)
  for (size_t a = 0; a < follows.accounts.size(); ++a)
    accounts.insert(accounts.end(),
                    {follows.accounts[a], a + 1 < posts.authored.offsets.size() && posts.authored.Degree(a) > 0});
  std::vector<uint64_t> account_records = GatherOnRoot(accounts, comm);
  std::vector<uint64_t>().swap(accounts);
  const std::vector<uint64_t> post_records = GatherOnRoot(PostRecords(posts, slots), comm);
  recall::RecallIndexItems items;
  if (Rank(comm) != 0) return items;
  GR_CHECK(table != nullptr, "CollectIndexItemsOnRoot: rank 0 needs the table");

  // The whole graph's accounts, ascending (its dense order), and their rows.
  std::vector<std::pair<ExternalId, bool>> graph_accounts;  // (account, posted)
  for (size_t i = 0; i + 1 < account_records.size(); i += 2)
    graph_accounts.emplace_back(account_records[i], account_records[i + 1] != 0);
  std::vector<uint64_t>().swap(account_records);
  std::sort(graph_accounts.begin(), graph_accounts.end());
  std::vector<std::pair<ExternalId, size_t>> account_rows;
  for (size_t r = 0; r < table->rows(); ++r)
    if (table->kinds[r] == embed::TokenKind::kAccount) account_rows.emplace_back(table->ids[r], r);
  std::sort(account_rows.begin(), account_rows.end());
  const auto row_of = [&](ExternalId account) -> const size_t* {
    const auto it = std::lower_bound(account_rows.begin(), account_rows.end(), std::pair<ExternalId, size_t>{account, 0});
    return it != account_rows.end() && it->first == account ? &it->second : nullptr;
  };
  const bool any_posts = !post_records.empty();
  std::vector<ExternalId> with_vector, authors;
  std::vector<size_t> with_vector_rows, author_rows;
  for (const auto& [account, posted] : graph_accounts) {
    const size_t* row = row_of(account);
    if (row == nullptr) continue;
    with_vector.push_back(account);
    with_vector_rows.push_back(*row);
    // Authors: accounts that posted, or every account when posts are unknown.
    if (!any_posts || posted) {
      authors.push_back(account);
      author_rows.push_back(*row);
    }
  }
  GR_CHECK(2 * with_vector.size() >= graph_accounts.size(), "the embedding covers only ", with_vector.size(),
           " of the graph's ", graph_accounts.size(), " accounts: is it from another graph?");
  items.accounts = Items(with_vector, with_vector_rows, table->input);
  if (kinds.authors && table->output.rows() == table->rows()) items.authors = Items(authors, author_rows, table->output);

  if (kinds.posts && any_posts) {
    const size_t width = kPostFields + slots;
    std::vector<size_t> order(post_records.size() / width);  // by post id: the dense order
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return post_records[a * width] < post_records[b * width]; });
    std::unordered_map<ExternalId, size_t> post_row;
    for (size_t r = 0; r < table->rows(); ++r)
      if (table->kinds[r] == embed::TokenKind::kPost) post_row.emplace(table->ids[r], r);
    const auto vector_of = [&](ExternalId account) -> const float* {
      const size_t* row = row_of(account);
      return row != nullptr ? table->input.Row(*row).data() : nullptr;
    };
    recall::IndexItems& out = items.posts.emplace();
    std::vector<float> vectors;
    std::vector<float> vector(table->dim());
    std::vector<const float*> engagers;
    for (const size_t i : order) {
      const uint64_t* record = post_records.data() + i * width;
      const ExternalId post = record[0];
      bool has_vector = false;
      if (record[1] >= rule.min_interactions) {
        if (const auto it = post_row.find(post); it != post_row.end()) {
          std::ranges::copy(table->input.Row(it->second), vector.begin());
          has_vector = true;
        }
      }
      if (!has_vector) {
        engagers.clear();
        for (uint64_t k = 0; k < record[4]; ++k) engagers.push_back(vector_of(record[kPostFields + k]));
        has_vector = embed::ColdPostVector(record[2] != 0 ? vector_of(record[3]) : nullptr, engagers, rule, vector);
      }
      if (!has_vector) continue;
      out.ids.push_back(post);
      vectors.insert(vectors.end(), vector.begin(), vector.end());
    }
    out.vectors = FloatMatrix(out.ids.size(), table->dim());
    std::ranges::copy(vectors, out.vectors.Data().begin());
  }
  if (!kinds.shard.whole()) items = items.Shard(kinds.shard);
  return items;
}

}  // namespace gr::dist
