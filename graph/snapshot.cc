#include "graph/snapshot.h"

#include <nlohmann/json.hpp>

#include "core/binary_io.h"

namespace gr::graph {
namespace {

void WriteCsr(SectionWriter& out, const std::string& name, const CsrGraph& g) {
  out.Add(name + ".offsets", g.offsets);
  out.Add(name + ".targets", g.targets);
  out.Add(name + ".weights", g.weights);
  out.Add(name + ".times", g.times);
  out.Add(name + ".type_masks", g.type_masks);
  out.Add(name + ".dwell_ms", g.dwell_ms);
}

CsrGraph ReadCsr(SectionReader& in, const std::string& name) {
  CsrGraph g;
  g.offsets = in.Read<EdgeIndex>(name + ".offsets");
  g.targets = in.Read<VertexId>(name + ".targets");
  g.weights = in.Read<float>(name + ".weights");
  g.times = in.Read<uint32_t>(name + ".times");
  g.type_masks = in.Read<uint8_t>(name + ".type_masks");
  g.dwell_ms = in.Read<uint32_t>(name + ".dwell_ms");
  return g;
}

}  // namespace

void SaveSnapshot(const SocialGraph& g, const std::string& path) {
  // Never write a file that LoadSnapshot would reject.
  try {
    g.Validate();
  } catch (const Error& e) {
    GR_THROW(ErrorCode::kInternal, "refusing to write snapshot ", path, ": ", e.what());
  }
  SectionWriter out(path, kSnapshotMagic, kSnapshotVersion);
  nlohmann::json meta = {{"reference_time", g.reference_time},
                         {"undirected", g.undirected},
                         {"accounts", g.accounts.size()},
                         {"posts", g.posts.size()}};
  if (!g.part.whole()) meta["part"] = {{"index", g.part.index}, {"count", g.part.count}};
  out.AddString("meta", meta.dump());
  out.Add("accounts.ids", g.accounts.external_ids());
  out.Add("posts.ids", g.posts.external_ids());
  WriteCsr(out, "following", g.following);
  // An undirected graph's followers equal its following; stored once.
  WriteCsr(out, "followers", g.undirected ? CsrGraph{} : g.followers);
  WriteCsr(out, "engagements", g.engagements);
  WriteCsr(out, "engagers", g.engagers);
  WriteCsr(out, "authored", g.authored);
  out.Add("posts.author", g.post_author);
  out.Add("posts.time", g.post_time);
  out.Commit();
}

SocialGraph LoadSnapshot(const std::string& path) {
  SectionReader in(path, kSnapshotMagic, "graphrec snapshot");
  if (in.version() != kSnapshotVersion)
    in.Fail(StrCat("unsupported snapshot format version ", in.version(), " (this build reads ",
                   kSnapshotVersion, ")"));
  SocialGraph g;
  const std::string meta_text = in.ReadString("meta");
  const auto meta = nlohmann::json::parse(meta_text, nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object() || !meta.contains("reference_time") || !meta.contains("undirected"))
    in.Fail("meta section is not the expected JSON object");
  try {
    g.reference_time = meta.at("reference_time").get<int64_t>();
    g.undirected = meta.at("undirected").get<bool>();
    if (meta.contains("part")) {
      g.part = {.index = meta.at("part").at("index").get<uint32_t>(), .count = meta.at("part").at("count").get<uint32_t>()};
      if (g.part.count == 0) in.Fail("meta section: a graph part of 0 parts");
    }
  } catch (const nlohmann::json::exception& e) {
    in.Fail(StrCat("meta section: ", e.what()));
  }
  try {
    g.accounts = IdMap::FromSortedUnique(in.Read<ExternalId>("accounts.ids"));
    g.posts = IdMap::FromSortedUnique(in.Read<ExternalId>("posts.ids"));
    g.following = ReadCsr(in, "following");
    g.followers = ReadCsr(in, "followers");
    if (g.undirected) g.followers = g.following;
    g.engagements = ReadCsr(in, "engagements");
    g.engagers = ReadCsr(in, "engagers");
    g.authored = ReadCsr(in, "authored");
    g.post_author = in.Read<VertexId>("posts.author");
    g.post_time = in.Read<uint32_t>("posts.time");
    in.ExpectEnd();
    g.Validate();
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kCorruption) throw;
    if (std::string_view(e.what()).find(path) != std::string_view::npos) throw;
    GR_THROW(ErrorCode::kCorruption, path, ": ", e.what());
  }
  return g;
}

}  // namespace gr::graph
