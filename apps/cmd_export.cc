// graphrec export: a version's vectors, indices or graph in formats other
// tools open (word2vec, NumPy, hnswlib, edge lists).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/graph_input.h"
#include "apps/output.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/npy.h"
#include "embed/embedding_io.h"
#include "recall/index_io.h"
#include "version/version_store.h"

namespace gr::apps {
namespace {

struct ExportArgs {
  std::string artifacts, version, embeddings, what, format, out;
  std::string index = "accounts";  // which recall index
  std::string vectors = "input";   // which vectors of an .emb
};

// The directory of the version to export: --version, or the live one.
std::string VersionDirOf(const ExportArgs& args) {
  GR_CHECK(!args.artifacts.empty(), "give --artifacts DIR (or --embeddings FILE for vectors)");
  const std::string version = args.version.empty() ? version::ReadCurrentVersion(args.artifacts) : args.version;
  GR_CHECK_CODE(!version.empty(), ErrorCode::kNotFound, args.artifacts, " has no published version (no ",
                version::kCurrentFile, "); give --version");
  return version::VersionDir(args.artifacts, version);
}

// path with its extension replaced: vectors.npy -> vectors.ids.npy.
std::string Sidecar(const std::string& path, const std::string& suffix) {
  return (std::filesystem::path(path).replace_extension("").string()) + suffix;
}

nlohmann::json ExportVectors(const ExportArgs& args) {
  const std::string source = args.embeddings.empty()
                                 ? version::PathIn(VersionDirOf(args), version::kAccountsEmbeddingFile)
                                 : args.embeddings;
  embed::EmbeddingTable table = embed::LoadAnyEmbeddings(source);
  if (args.vectors == "output") {
    GR_CHECK(table.output.rows() == table.rows(), source, " has no output (context) vectors");
    table.input = std::move(table.output);
  }
  table.output = FloatMatrix();
  nlohmann::json files = nlohmann::json::array({args.out});
  if (args.format == "word2vec") {
    embed::SaveWord2VecText(table, args.out);
  } else if (args.format == "word2vec-binary") {
    embed::SaveWord2VecBinary(table, args.out);
  } else {
    GR_CHECK(args.format == "npy", "--what vectors takes --format word2vec, word2vec-binary or npy, not ",
             Excerpt(args.format));
    SaveNpy(args.out, table.input);
    files.push_back(Sidecar(args.out, ".ids.npy"));
    SaveNpy(files.back().get<std::string>(), std::span<const uint64_t>(table.ids));
    const bool has_posts = std::any_of(table.kinds.begin(), table.kinds.end(),
                                       [](embed::TokenKind k) { return k == embed::TokenKind::kPost; });
    if (has_posts) {  // 0 account, 1 post, per row
      files.push_back(Sidecar(args.out, ".kinds.npy"));
      SaveNpy(files.back().get<std::string>(),
              std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(table.kinds.data()), table.kinds.size()));
    }
  }
  return {{"what", "vectors"}, {"source", source}, {"vectors", args.vectors}, {"rows", table.rows()},
          {"dim", table.dim()}, {"files", files}};
}

nlohmann::json ExportIndex(const ExportArgs& args) {
  GR_CHECK(args.format == "hnswlib", "--what index takes --format hnswlib, not ", Excerpt(args.format));
  const std::map<std::string, version::IndexFile> files{{"accounts", version::IndexFile::kAccounts},
                                                        {"authors", version::IndexFile::kAuthors},
                                                        {"posts", version::IndexFile::kPosts}};
  const std::string source = version::PathIn(VersionDirOf(args), version::IndexFileName(files.at(args.index)));
  GR_CHECK_CODE(std::filesystem::exists(source), ErrorCode::kNotFound, "the version has no ", args.index,
                " index (", source, ")");
  const auto index = recall::LoadIndex(source);
  const recall::HnswlibFile exported = recall::SaveHnswlibIndex(*index, args.out);
  // Labels are positions: the ids say whose vector each label is.
  const std::string ids = Sidecar(args.out, ".ids.npy");
  SaveNpy(ids, index->ids());
  const nlohmann::json about = {{"space", exported.space}, {"dim", exported.dim}, {"count", index->size()},
                                {"ef_search", index->config().ef_search}, {"m", index->config().m},
                                {"labels", "positions in " + std::filesystem::path(ids).filename().string()},
                                {"query", exported.space == "ip" ? "the vector with a 0 appended" : "the vector"},
                                {"ids_are", args.index == "posts" ? "post ids" : "account ids"}};
  const std::string about_path = Sidecar(args.out, ".json");
  WriteFileAtomically(about_path, [&](std::FILE* out) { std::fputs((about.dump(2) + "\n").c_str(), out); });
  return {{"what", "index"}, {"index", args.index}, {"source", source}, {"space", exported.space},
          {"dim", exported.dim}, {"count", index->size()}, {"files", {args.out, ids, about_path}}};
}

nlohmann::json ExportGraph(const ExportArgs& args) {
  GR_CHECK(args.format == "edgelist", "--what graph takes --format edgelist, not ", Excerpt(args.format));
  const std::string source = VersionDirOf(args);
  const graph::SocialGraph g = version::LoadGraph(source);
  const graph::CsrGraph& follows = g.following;
  uint64_t written = 0;
  WriteFileAtomically(args.out, [&](std::FILE* out) {
    for (VertexId u = 0; u < follows.num_vertices(); ++u) {
      const ExternalId from = g.accounts.ToExternal(u);
      for (EdgeIndex e = follows.Begin(u); e < follows.End(u); ++e) {
        const ExternalId to = g.accounts.ToExternal(follows.targets[e]);
        if (g.undirected && to < from) continue;  // each undirected edge once
        std::fprintf(out, "%llu %llu %.9g\n", static_cast<unsigned long long>(from),
                     static_cast<unsigned long long>(to),
                     follows.has_weights() ? static_cast<double>(follows.weights[e]) : 1.0);
        ++written;
      }
    }
  });
  return {{"what", "graph"}, {"source", source}, {"edges", written}, {"directed", !g.undirected},
          {"files", {args.out}}};
}

void RunExport(const ExportArgs& args) {
  GR_CHECK(args.embeddings.empty() || args.what == "vectors", "--embeddings is an input of --what vectors only");
  const nlohmann::json result = args.what == "vectors" ? ExportVectors(args)
                                : args.what == "index" ? ExportIndex(args)
                                                       : ExportGraph(args);
  if (JsonOutput()) {
    PrintJson(result);
    return;
  }
  std::printf("exported %s", args.what.c_str());
  if (result.contains("rows")) std::printf(": %zu x %zu", result["rows"].get<size_t>(), result["dim"].get<size_t>());
  if (result.contains("space"))
    std::printf(": %zu vectors, hnswlib space '%s', dim %zu", result["count"].get<size_t>(),
                result["space"].get<std::string>().c_str(), result["dim"].get<size_t>());
  if (result.contains("edges")) std::printf(": %llu edges", static_cast<unsigned long long>(result["edges"].get<uint64_t>()));
  std::printf("\n");
  for (const auto& file : result["files"]) std::printf("  %s\n", file.get<std::string>().c_str());
}

}  // namespace

void AddExportCommand(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand("export", "Write a version's vectors, an index or the graph in open formats");
  cmd->add_option("--artifacts", args->artifacts, "artifacts directory (the live version unless --version)");
  cmd->add_option("--version", args->version, "version to export (default: the one CURRENT names)");
  cmd->add_option("--embeddings", args->embeddings,
                  "with --what vectors: convert this vectors file (.emb, word2vec text or binary) instead")
      ->check(CLI::ExistingFile);
  cmd->add_option("--what", args->what, "vectors, index or graph")
      ->required()->check(CLI::IsMember({"vectors", "index", "graph"}));
  cmd->add_option("--format", args->format,
                  "vectors: word2vec, word2vec-binary or npy; index: hnswlib; graph: edgelist")
      ->required()->check(CLI::IsMember({"word2vec", "word2vec-binary", "npy", "hnswlib", "edgelist"}));
  cmd->add_option("--index", args->index, "with --what index: accounts, authors or posts")
      ->check(CLI::IsMember({"accounts", "authors", "posts"}))->capture_default_str();
  cmd->add_option("--vectors", args->vectors, "with --what vectors: input (default) or output (context) vectors")
      ->check(CLI::IsMember({"input", "output"}))->capture_default_str();
  cmd->add_option("--out", args->out, "file to write (npy and hnswlib also write sidecar files beside it)")
      ->required();
  cmd->callback([args] { RunExport(*args); });
}

}  // namespace gr::apps
