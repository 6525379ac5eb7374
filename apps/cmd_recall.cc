// graphrec index (build the recall indices from vectors and the graph) and
// graphrec recall (query them by external id).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <unordered_map>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "core/run_options.h"
#include "version/version_store.h"
#include "apps/graph_input.h"
#include "apps/output.h"
#include "core/error.h"
#include "embed/embedding_io.h"
#include "recall/recall.h"

namespace gr::apps {
namespace {

struct IndexArgs {
  std::string embeddings, graph, out;
  bool directed = false, exact = false;
  recall::IndexConfig config;  // its threads and seed come from `run`
  RunOptions run;
  embed::PostVectorRule rule;
  std::vector<std::string> kinds{"similar", "authors", "posts"};
  std::string precision = "float32";
};

// Without a graph: the similar index over the account rows of the vectors
// (any vectors, string keys included); author and post indices need the graph.
recall::RecallIndexes IndexVectorsAlone(const embed::EmbeddingTable& table, const recall::IndexConfig& config) {
  std::vector<ExternalId> ids;
  std::vector<size_t> rows;
  for (size_t r = 0; r < table.rows(); ++r)
    if (table.kinds[r] == embed::TokenKind::kAccount) ids.push_back(table.ids[r]), rows.push_back(r);
  if (rows.size() < table.rows()) spdlog::warn("{} post rows left out: the similar index holds accounts", table.rows() - rows.size());
  FloatMatrix vectors(rows.size(), table.dim());
  for (size_t i = 0; i < rows.size(); ++i) std::ranges::copy(table.input.Row(rows[i]), vectors.Row(i).begin());
  recall::RecallIndexes indexes;
  indexes.accounts = recall::VectorIndex::Build(std::move(ids), vectors, config);
  return indexes;
}

void RunIndex(const IndexArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  const embed::EmbeddingTable table = embed::LoadAnyEmbeddings(args.embeddings);
  recall::IndexConfig config = args.config;
  config.threads = args.run.threads;
  config.seed = args.run.SeedFor(SeedStream::kIndex);
  config.kind = args.exact ? recall::IndexKind::kExact : recall::IndexKind::kHnsw;
  config.precision = recall::ParsePrecision(args.precision);
  const auto wanted = [&](const char* kind) { return std::find(args.kinds.begin(), args.kinds.end(), kind) != args.kinds.end(); };
  recall::RecallIndexes indexes;
  if (args.graph.empty()) {
    spdlog::info("no --graph: the similar index over all {} vectors (author and post indices need the graph)",
                 table.rows());
    indexes = IndexVectorsAlone(table, config);
  } else {
    GR_CHECK(table.names.empty(), args.embeddings, " has string keys: index it without --graph");
    if (table.output.rows() != table.rows())
      spdlog::warn("{} has no output (context) vectors: no author index (train with --format native)", args.embeddings);
    const graph::SocialGraph g = LoadGraphInput(args.graph, args.directed);
    indexes = recall::BuildRecallIndexes(g, table, config, args.rule, {.authors = wanted("authors"), .posts = wanted("posts")});
  }
  const double build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  version::SaveIndexes(indexes, args.out);
  const std::pair<const char*, const recall::VectorIndex*> all[] = {
      {"accounts (similar accounts, cosine)", indexes.accounts.get()},
      {"authors (user -> author, inner product)", indexes.authors.get()},
      {"posts (user -> post, cosine)", indexes.posts.get()}};
  const char* const kind = args.exact ? "exact" : "hnsw";
  const char* const precision =
      recall::PrecisionName(args.exact ? recall::VectorPrecision::kFloat32 : config.precision);
  if (JsonOutput()) {
    nlohmann::json out = {{"kind", kind}, {"precision", precision}, {"m", config.m},
                          {"ef_construction", config.ef_construction}, {"ef_search", config.ef_search},
                          {"seconds", build_seconds}, {"out", args.out}, {"indexes", nlohmann::json::object()}};
    for (const auto& [name, index] : all) {
      const std::string key(name, std::string_view(name).find(' '));
      out["indexes"][key] = index == nullptr ? nlohmann::json(nullptr)
                                             : nlohmann::json{{"vectors", index->size()},
                                                              {"memory_bytes", index->MemoryBytes()}};
    }
    PrintJson(out);
    return;
  }
  for (const auto& [name, index] : all) {
    if (index == nullptr) {
      std::printf("%-40s absent\n", name);
    } else {
      std::printf("%-40s %zu vectors, %.1f MB\n", name, index->size(), static_cast<double>(index->MemoryBytes()) / 1e6);
    }
  }
  std::printf("%s index (%s), M %u, ef_construction %u, ef_search %u: built in %.1f s (with loading) -> %s\n",
              args.exact ? "exact" : "HNSW", precision, config.m, config.ef_construction, config.ef_search,
              build_seconds, args.out.c_str());
}

struct RecallArgs {
  std::string embeddings, graph, index, kind = "similar", ids_file;
  std::vector<ExternalId> ids;
  std::vector<std::string> keys;  // --key, without --graph
  bool directed = false, exclude_known = false;
  size_t k = 10;
  uint32_t ef_search = 0;
};

// The similar accounts of each --key (or --id) from the vectors and their
// index alone: no filters (they need the graph); results keyed as the vectors are.
void RecallWithoutGraph(const RecallArgs& args, const embed::EmbeddingTable& table, const recall::RecallIndexes& indexes) {
  GR_CHECK(args.kind == "similar", "--kind ", args.kind, " needs --graph (without it: --kind similar)");
  GR_CHECK(!args.exclude_known, "--exclude-known needs --graph");
  std::unordered_map<std::string, size_t> row_of_key;
  std::unordered_map<ExternalId, size_t> row_of_id;
  for (size_t r = 0; r < table.rows(); ++r) {
    if (table.kinds[r] != embed::TokenKind::kAccount) continue;
    row_of_key.emplace(table.Key(r), r);
    row_of_id.emplace(table.ids[r], r);
  }
  std::vector<ExternalId> ids = args.ids;
  if (!args.ids_file.empty()) ReadIdFile(args.ids_file, "an account id", ids);
  std::vector<std::string> queries = args.keys;
  for (const ExternalId id : ids) queries.push_back(std::to_string(id));
  GR_CHECK(!queries.empty(), "give --key or --id");
  const recall::VectorIndex& index = *indexes.accounts;
  for (const std::string& query : queries) {
    const auto row = row_of_key.find(query);
    GR_CHECK_CODE(row != row_of_key.end(), ErrorCode::kNotFound, "'", Excerpt(query), "' has no vector in ",
                  args.embeddings);
    nlohmann::json out = {{"query", query}, {"kind", "similar"}, {"ids", nlohmann::json::array()},
                          {"scores", nlohmann::json::array()}};
    if (!JsonOutput()) std::printf("# similar for %s\n", query.c_str());
    for (const auto& hit : index.Search(table.input.Row(row->second), args.k + 1, {})) {
      const auto hit_row = row_of_id.find(index.id(hit.item));
      if (hit_row == row_of_id.end() || hit_row->second == row->second) continue;
      if (out["ids"].size() == args.k) break;
      const std::string key = table.Key(hit_row->second);
      out["ids"].push_back(key);
      out["scores"].push_back(hit.score);
      if (!JsonOutput()) std::printf("%s\t%.5f\n", key.c_str(), static_cast<double>(hit.score));
    }
    if (JsonOutput()) PrintJson(out);
  }
}

void RunRecall(const RecallArgs& args) {
  const embed::EmbeddingTable table = embed::LoadAnyEmbeddings(args.embeddings);
  recall::RecallIndexes indexes = version::LoadIndexes(args.index, table.dim());
  if (args.ef_search > 0) indexes.SetEfSearch(args.ef_search);
  if (args.graph.empty()) return RecallWithoutGraph(args, table, indexes);
  GR_CHECK(args.keys.empty(), "--key needs vectors with string keys and no --graph; give --id");
  const graph::SocialGraph g = LoadGraphInput(args.graph, args.directed);
  const recall::Recaller recaller(g, table, indexes);
  const std::map<std::string, recall::RecallKind> kinds{{"similar", recall::RecallKind::kSimilarAccounts},
                                                        {"authors", recall::RecallKind::kAuthors},
                                                        {"posts", recall::RecallKind::kPosts}};
  const recall::RecallKind kind = kinds.at(args.kind);
  std::vector<ExternalId> queries = args.ids;
  if (!args.ids_file.empty()) ReadIdFile(args.ids_file, "an account id", queries);
  GR_CHECK(!queries.empty(), "give --id or --ids-file");
  const bool post_ids = kind == recall::RecallKind::kPosts;
  size_t failed = 0;
  for (const ExternalId query : queries) {
    try {
      const auto results = recaller.Recall(kind, query, args.k, args.exclude_known);
      if (JsonOutput()) {
        nlohmann::json out = {{"query", JsonId(query)}, {"kind", args.kind}, {"ids", nlohmann::json::array()},
                              {"scores", nlohmann::json::array()}};
        for (const auto& r : results) {
          out["ids"].push_back(JsonId(r.id));
          out["scores"].push_back(r.score);
        }
        PrintJson(out);
      } else {
        std::printf("# %s for account %llu\n", args.kind.c_str(), static_cast<unsigned long long>(query));
        for (const auto& r : results)
          std::printf("%s%llu\t%.5f\n", post_ids ? "p" : "", static_cast<unsigned long long>(r.id), r.score);
      }
    } catch (const Error& e) {
      if (queries.size() == 1) throw;
      ++failed;  // one bad id in a batch is reported, not fatal
      if (JsonOutput()) {
        PrintJson({{"query", JsonId(query)}, {"kind", args.kind}, {"error", e.what()}});
      } else {
        std::printf("# %s for account %llu: %s\n", args.kind.c_str(), static_cast<unsigned long long>(query), e.what());
      }
    }
  }
  if (failed > 0) spdlog::warn("{} of {} queries failed", failed, queries.size());
}

}  // namespace

void AddRecallCommands(CLI::App& app) {
  auto ia = std::make_shared<IndexArgs>();
  auto* index = app.add_subcommand("index", "Build the similar-account, author and post recall indices");
  index->add_option("--embeddings", ia->embeddings,
                    "account vectors (.emb keeps the output vectors author recall needs; word2vec text works for "
                    "the others)")->required()->check(CLI::ExistingFile);
  index->add_option("--graph", ia->graph,
                    "graph snapshot (posts and interactions for post vectors) or edge list; without it only the "
                    "similar index is built, over any vectors (string keys included)")
      ->check(CLI::ExistingFile);
  index->add_flag("--directed", ia->directed, "an edge-list --graph is directed");
  index->add_option("--out", ia->out, "directory for accounts.hnsw, authors.hnsw, posts.hnsw")->required();
  index->add_option("--kinds", ia->kinds, "indices to build: similar (always), authors, posts")
      ->delimiter(',')->check(CLI::IsMember({"similar", "authors", "posts"}))->capture_default_str();
  index->add_flag("--exact", ia->exact, "exact (brute-force) indices instead of HNSW");
  index->add_option("--m", ia->config.m, "HNSW links per node")->capture_default_str();
  index->add_option("--ef-construction", ia->config.ef_construction, "HNSW build candidate list")->capture_default_str();
  index->add_option("--ef-search", ia->config.ef_search, "HNSW search candidate list (stored, overridable at query)")
      ->capture_default_str();
  index->add_option("--precision", ia->precision,
                    "HNSW vector storage: float32, or float16 (half the vector memory, faster search, scores to "
                    "~1e-3; --exact keeps float32)")
      ->check(CLI::IsMember({"float32", "float16"}))->capture_default_str();
  index->add_option("--workers", ia->run.threads, "build threads, 0 = all cores")->capture_default_str();
  index->add_option("--seed", ia->run.seed, "run seed; the HNSW level seed derives from it as in graphrec batch")
      ->capture_default_str();
  index->add_option("--min-interactions", ia->rule.min_interactions,
                    "posts: a trained post vector is used from this many interactions on")->capture_default_str();
  index->add_option("--first-engagers", ia->rule.first_engagers,
                    "cold posts: how many earliest interacting accounts are averaged")->capture_default_str();
  index->add_option("--author-weight", ia->rule.author_weight, "cold posts: weight of the author's vector")
      ->capture_default_str();
  index->callback([ia] { RunIndex(*ia); });

  auto ra = std::make_shared<RecallArgs>();
  auto* rc = app.add_subcommand("recall", "Query the recall indices by account id");
  rc->add_option("--embeddings", ra->embeddings, "the vectors the indices were built from")
      ->required()->check(CLI::ExistingFile);
  rc->add_option("--graph", ra->graph,
                 "the graph the indices were built from; without it: --kind similar by --key or --id, no filters")
      ->check(CLI::ExistingFile);
  rc->add_flag("--directed", ra->directed, "an edge-list --graph is directed");
  rc->add_option("--index", ra->index, "directory written by graphrec index")->required()->check(CLI::ExistingDirectory);
  rc->add_option("--kind", ra->kind, "similar (accounts), authors or posts")
      ->check(CLI::IsMember({"similar", "authors", "posts"}))->capture_default_str();
  rc->add_option("--id", ra->ids, "account id(s) to query");
  rc->add_option("--key", ra->keys, "without --graph: key(s) to query as the vectors file writes them (names too)");
  rc->add_option("--ids-file", ra->ids_file, "file of account ids, one per line")->check(CLI::ExistingFile);
  rc->add_option("--k", ra->k, "results per query")->check(CLI::Range(1, 100000))->capture_default_str();
  rc->add_flag("--exclude-known", ra->exclude_known,
               "exclude accounts the query follows (similar, authors) or posts it interacted with (posts)");
  rc->add_option("--ef-search", ra->ef_search, "override the stored HNSW ef_search (0 = keep)");
  rc->callback([ra] { RunRecall(*ra); });
}

}  // namespace gr::apps
