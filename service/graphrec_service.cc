#include "service/graphrec_service.h"

#include <spdlog/spdlog.h>

#include <array>
#include <optional>
#include <vector>
#include <chrono>

#include "core/error.h"
#include "service/auth.h"
#include "service/live_events.h"
#include "service/live_recall.h"
#include "service/model.h"
#include "service/refresher.h"
#include "service/request_log.h"
#include "service/server.h"

namespace gr::service {
namespace {

namespace pb = ::graphrec::v1;
using Clock = std::chrono::steady_clock;

constexpr std::array<const char*, GraphrecService::kNumMethods> kMethodNames = {
    "SimilarAccounts", "RecallAuthors", "RecallPosts", "GetEmbeddings", "Rank",
    "ModelInfo",       "Stats",         "PushEvents"};

static_assert(static_cast<int>(RecallSource::kEmbedding) == pb::RECALL_SOURCE_EMBEDDING &&
              static_cast<int>(RecallSource::kWalks) == pb::RECALL_SOURCE_WALKS &&
              static_cast<int>(RecallSource::kMixed) == pb::RECALL_SOURCE_MIXED &&
              static_cast<int>(RecallSource::kConsistent) == pb::RECALL_SOURCE_CONSISTENT);

grpc::Status ToStatus(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kNotFound:
      return {grpc::StatusCode::NOT_FOUND, e.what()};
    case ErrorCode::kInvalidArgument:
      return {grpc::StatusCode::INVALID_ARGUMENT, e.what()};
    default:
      return {grpc::StatusCode::INTERNAL, e.what()};
  }
}

}  // namespace

template <typename Handler>
grpc::ServerUnaryReactor* GraphrecService::Serve(Method method, grpc::CallbackServerContext* ctx,
                                                 Handler&& handle) {
  const auto start = Clock::now();
  stats_.Begin();
  grpc::Status status = Authorize(method, *ctx);
  if (!status.ok()) {
    // refused before any work
  } else if (ctx->deadline() < std::chrono::system_clock::now()) {
    status = {grpc::StatusCode::DEADLINE_EXCEEDED,
              "the deadline passed before the request was served"};
  } else {
    try {
      const std::shared_ptr<const Model> model = source_.Get();  // held until the answer is built
      status = model == nullptr ? grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                               "the server is loading its first version; retry shortly")
                                : handle(*model);
    } catch (const Error& e) {
      status = ToStatus(e);
    } catch (const std::exception& e) {
      status = {grpc::StatusCode::INTERNAL, e.what()};
    }
    if (status.ok() && ctx->deadline() < std::chrono::system_clock::now())
      status = {grpc::StatusCode::DEADLINE_EXCEEDED,
                "the deadline passed while the request was served"};
  }
  stats_.End(method, std::chrono::duration<double>(Clock::now() - start).count(),
             status.error_code());
  if (!status.ok())
    LogFailedRequest(kMethodNames[method], status.error_code(), status.error_message());
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

GraphrecService::GraphrecService(const ServerOptions& options, ModelSource& source,
                                 LiveEvents& live, const Refresher& refresher,
                                 const TokenTable* tokens)
    : options_(options),
      source_(source),
      live_(live),
      refresher_(refresher),
      tokens_(tokens),
      stats_(std::vector<std::string>(kMethodNames.begin(), kMethodNames.end())) {}

grpc::ServerUnaryReactor* GraphrecService::SimilarAccounts(grpc::CallbackServerContext* ctx,
                                                           const pb::SimilarAccountsRequest* req,
                                                           pb::RecallResponse* resp) {
  return Serve(kSimilarAccounts, ctx, [&](const Model& m) {
    return Recall(m, recall::RecallKind::kSimilarAccounts, req->account_id(), req->k(),
                  req->exclude_followed(), resp);
  });
}

grpc::ServerUnaryReactor* GraphrecService::RecallAuthors(grpc::CallbackServerContext* ctx,
                                                         const pb::RecallAuthorsRequest* req,
                                                         pb::RecallResponse* resp) {
  return Serve(kRecallAuthors, ctx, [&](const Model& m) {
    return Recall(m, recall::RecallKind::kAuthors, req->user_id(), req->k(),
                  req->exclude_followed(), resp, req->source());
  });
}

grpc::ServerUnaryReactor* GraphrecService::RecallPosts(grpc::CallbackServerContext* ctx,
                                                       const pb::RecallPostsRequest* req,
                                                       pb::RecallResponse* resp) {
  return Serve(kRecallPosts, ctx, [&](const Model& m) {
    return Recall(m, recall::RecallKind::kPosts, req->user_id(), req->k(), req->exclude_seen(),
                  resp, req->source());
  });
}

grpc::ServerUnaryReactor* GraphrecService::GetEmbeddings(grpc::CallbackServerContext* ctx,
                                                         const pb::GetEmbeddingsRequest* req,
                                                         pb::GetEmbeddingsResponse* resp) {
  return Serve(kGetEmbeddings, ctx, [&](const Model& m) { return Embeddings(m, *req, resp); });
}

grpc::ServerUnaryReactor* GraphrecService::Rank(grpc::CallbackServerContext* ctx,
                                                const pb::RankRequest* req,
                                                pb::RankResponse* resp) {
  return Serve(kRank, ctx, [&](const Model& m) {
    if (req->post_ids().empty())
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no candidate posts");
    if (static_cast<uint32_t>(req->post_ids_size()) > options_.max_ids)
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          StrCat(req->post_ids_size(), " candidates, at most ", options_.max_ids));
    if (m.ranker == nullptr)
      return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          StrCat("version ", m.version, " has no ranker"));
    if (req->time_unix_s() > UINT32_MAX)
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          StrCat("time_unix_s ", req->time_unix_s(), " is out of range"));
    const auto time =
        static_cast<uint32_t>(req->time_unix_s() > 0 ? req->time_unix_s() : m.graph.reference_time);
    const std::vector<ExternalId> posts(req->post_ids().begin(), req->post_ids().end());
    for (const auto& r : m.ranker->Rank(*m.features, req->user_id(), posts, time,
                                        NewPostsOf(*live_.state(), m.graph, posts))) {
      auto* out = resp->add_posts();
      out->set_post_id(r.post);
      out->set_click(r.scores[ranking::kClickTask]);
      out->set_interaction(r.scores[ranking::kInteractionTask]);
      out->set_dwell_seconds(r.scores[ranking::kDwellTask]);
      out->set_negative(r.scores[ranking::kNegativeTask]);
      out->set_profile_visit(r.scores[ranking::kProfileVisitTask]);
      out->set_completion(r.scores[ranking::kCompletionTask]);
      out->set_score(r.fused);
    }
    resp->set_version(m.version);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* GraphrecService::ModelInfo(grpc::CallbackServerContext* ctx,
                                                     const pb::ModelInfoRequest*,
                                                     pb::ModelInfoResponse* resp) {
  return Serve(kModelInfo, ctx, [&](const Model& m) {
    resp->set_version(m.version);
    resp->set_accounts(m.graph.num_accounts());
    resp->set_posts(m.graph.num_posts());
    resp->set_follow_edges(m.graph.following.num_edges());
    resp->set_dimension(static_cast<uint32_t>(m.table.dim()));
    resp->set_indexed_accounts(m.recaller->IndexSize(recall::RecallKind::kSimilarAccounts));
    resp->set_indexed_authors(m.recaller->IndexSize(recall::RecallKind::kAuthors));
    resp->set_indexed_posts(m.recaller->IndexSize(recall::RecallKind::kPosts));
    resp->set_loaded_at_unix_ms(m.loaded_at_unix_ms);
    resp->set_manifest_json(m.manifest_json);
    resp->set_has_ranker(m.ranker != nullptr);
    const std::shared_ptr<const LiveState> live = live_.state();
    const graph::LiveGraphCounts counts = live->graph->counts();
    resp->set_event_log_watermark(live->watermark);
    resp->set_event_log_end(live_.log_end());
    resp->set_live_new_accounts(counts.new_accounts);
    resp->set_live_new_posts(counts.new_posts);
    resp->set_live_follows(counts.follows);
    resp->set_live_unfollows(counts.unfollows);
    resp->set_live_interactions(counts.interactions);
    resp->set_live_delta_bytes(live->graph->DeltaMemoryBytes());
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* GraphrecService::Stats(grpc::CallbackServerContext* ctx,
                                                 const pb::StatsRequest*, pb::StatsResponse* resp) {
  return Serve(kStats, ctx, [&](const Model&) {
    for (int i = 0; i < kNumMethods; ++i) {
      const auto s = stats_.latency(static_cast<size_t>(i)).Summarize();
      auto* out = resp->add_methods();
      out->set_method(kMethodNames[static_cast<size_t>(i)]);
      out->set_requests(s.requests);
      out->set_errors(s.errors);
      out->set_p50_ms(s.p50_ms);
      out->set_p99_ms(s.p99_ms);
      out->set_p999_ms(s.p999_ms);
      out->set_max_ms(s.max_ms);
    }
    resp->set_reloads(source_.reloads());
    resp->set_failed_reloads(source_.failed_reloads());
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* GraphrecService::PushEvents(grpc::CallbackServerContext* ctx,
                                                      const pb::PushEventsRequest* req,
                                                      pb::PushEventsResponse* resp) {
  return Serve(kPushEvents, ctx, [&](const Model&) -> grpc::Status {
    if (!live_.writes_log())
      return {grpc::StatusCode::FAILED_PRECONDITION,
              StrCat("this server follows the event log in ", live_.log_dir(),
                     "; push events to the server that writes it (the front sends them there)")};
    const auto count = static_cast<uint32_t>(req->events_size());
    if (count == 0 || count > options_.max_events)
      return {grpc::StatusCode::INVALID_ARGUMENT,
              StrCat(count, " events; send 1..", options_.max_events)};
    std::vector<stream::Event> events(count);
    for (uint32_t i = 0; i < count; ++i) {
      const pb::Event& in = req->events(static_cast<int>(i));
      if (in.kind() <= pb::EVENT_KIND_UNSPECIFIED || in.kind() > pb::EVENT_ACCOUNT ||
          in.interaction() > 3)
        return {grpc::StatusCode::INVALID_ARGUMENT,
                StrCat("event ", i, ": kind ", static_cast<int>(in.kind()), ", interaction ",
                       in.interaction(), " (kinds EVENT_FOLLOW..EVENT_ACCOUNT, interactions 0-3)")};
      events[i] = {.kind = static_cast<stream::EventKind>(in.kind()),
                   .interaction = static_cast<uint8_t>(in.interaction()),
                   .time = in.time_unix_s(),
                   .dwell_ms = in.dwell_ms(),
                   .actor = in.actor(),
                   .object = in.object()};
    }
    resp->set_first_sequence(live_.Push(events));
    resp->set_count(count);
    return grpc::Status::OK;
  });
}

void GraphrecService::LogStats() const {
  for (int i = 0; i < kNumMethods; ++i) {
    const auto s = stats_.latency(static_cast<size_t>(i)).Summarize();
    if (s.requests == 0) continue;
    spdlog::info(
        "{}: {} requests, {} errors, p50 {:.3f} ms, p99 {:.3f} ms, p999 {:.3f} ms, max {:.3f} ms",
        kMethodNames[static_cast<size_t>(i)], s.requests, s.errors, s.p50_ms, s.p99_ms, s.p999_ms,
        s.max_ms);
  }
}

grpc::Status GraphrecService::Authorize(Method method,
                                        const grpc::CallbackServerContext& ctx) const {
  if (tokens_ == nullptr) return grpc::Status::OK;
  const auto& metadata = ctx.client_metadata();
  const auto it = metadata.find("authorization");
  const uint8_t scopes =
      it == metadata.end()
          ? 0
          : tokens_->ScopesOf(std::string_view(it->second.data(), it->second.size()));
  if (scopes == 0)
    return {grpc::StatusCode::UNAUTHENTICATED,
            "a known bearer token is required (metadata authorization: Bearer TOKEN)"};
  const bool write = method == kPushEvents;
  if ((scopes & (write ? kScopeWrite : kScopeRead)) == 0)
    return {grpc::StatusCode::PERMISSION_DENIED,
            StrCat("this token may not ", write ? "write" : "read")};
  return grpc::Status::OK;
}

grpc::Status GraphrecService::Recall(const Model& m, recall::RecallKind kind, uint64_t id,
                                     uint32_t k, bool exclude, pb::RecallResponse* resp,
                                     pb::RecallSource source) const {
  if (k == 0 || k > options_.max_k)
    return {grpc::StatusCode::INVALID_ARGUMENT,
            StrCat("k must be in 1..", options_.max_k, ", got ", k)};
  if (source < pb::RECALL_SOURCE_EMBEDDING || source > pb::RECALL_SOURCE_CONSISTENT)
    return {grpc::StatusCode::INVALID_ARGUMENT,
            StrCat("unknown recall source ", static_cast<int>(source))};
  if (source == pb::RECALL_SOURCE_CONSISTENT) {
    if (kind != recall::RecallKind::kPosts)
      return {grpc::StatusCode::INVALID_ARGUMENT, "the consistent recall source answers RecallPosts only"};
    if (m.consistent_recall == nullptr || m.indexes.consistent_posts == nullptr)
      return {grpc::StatusCode::UNIMPLEMENTED, StrCat("version ", m.version, " has no consistent recall towers")};
  } else if (m.indexes.For(kind) == nullptr && source != pb::RECALL_SOURCE_WALKS)
    return {grpc::StatusCode::UNIMPLEMENTED,
            StrCat("version ", m.version, " has no ", recall::RecallKindName(kind), " index")};
  // The user's vector as refreshed since the version, if it was (held
  // until the search is done).
  const std::shared_ptr<const RefreshedVectors> refreshed_vectors = refresher_.vectors();
  const std::vector<float>* refreshed = refreshed_vectors->Find(m.version, id);
  const std::span<const float> query =
      refreshed == nullptr ? std::span<const float>() : std::span<const float>(*refreshed);
  const std::shared_ptr<const LiveState> live = live_.state();
  if (refreshed == nullptr && !m.account_row.contains(id) && source != pb::RECALL_SOURCE_WALKS &&
      source != pb::RECALL_SOURCE_MIXED && live->graph->FindAccount(id) != kNoVertex) {
    // Known from events, no vector until a refresh pass reaches it.
    for (const auto& r : PopularFallback(m, *live, kind, id, k, exclude)) {
      resp->add_ids(r.id);
      resp->add_scores(r.score);
    }
    resp->set_popularity_fallback(true);
    resp->set_version(m.version);
    return grpc::Status::OK;
  }
  const auto results = RecallBySource(m, *live, kind, id, k, exclude, static_cast<RecallSource>(source),
                                      {.max_steps = options_.walk_max_steps}, query);
  for (const auto& r : results) {
    resp->add_ids(r.id);
    resp->add_scores(r.score);
  }
  resp->set_version(m.version);
  return grpc::Status::OK;
}

grpc::Status GraphrecService::Embeddings(const Model& m, const pb::GetEmbeddingsRequest& req,
                                         pb::GetEmbeddingsResponse* resp) const {
  if (req.ids().empty()) return {grpc::StatusCode::INVALID_ARGUMENT, "no ids"};
  if (static_cast<uint32_t>(req.ids_size()) > options_.max_ids)
    return {grpc::StatusCode::INVALID_ARGUMENT,
            StrCat(req.ids_size(), " ids, at most ", options_.max_ids)};
  const bool output = req.kind() == pb::ACCOUNT_OUTPUT;
  if (output && m.table.output.rows() != m.table.rows())
    return {grpc::StatusCode::UNIMPLEMENTED,
            StrCat("version ", m.version, " has no output vectors")};
  if (req.kind() == pb::POST && m.indexes.posts == nullptr)
    return {grpc::StatusCode::UNIMPLEMENTED, StrCat("version ", m.version, " has no post vectors")};
  const std::shared_ptr<const RefreshedVectors> refreshed_vectors = refresher_.vectors();
  for (const uint64_t id : req.ids()) {
    auto* e = resp->add_embeddings();
    e->set_id(id);
    if (req.kind() == pb::POST) {
      const std::optional<std::vector<float>> vector = m.recaller->IndexedVector(recall::RecallKind::kPosts, id);
      if (!vector) return {grpc::StatusCode::NOT_FOUND, StrCat("post ", id, " has no vector")};
      for (float x : *vector) e->add_values(x);
    } else if (const std::vector<float>* refreshed = output ? nullptr : refreshed_vectors->Find(m.version, id)) {
      for (float x : *refreshed) e->add_values(x);  // refreshed since the version by the events
    } else {
      const auto it = m.account_row.find(id);
      if (it == m.account_row.end())
        return {grpc::StatusCode::NOT_FOUND, StrCat("account ", id, " has no vector")};
      for (float x : (output ? m.table.output : m.table.input).Row(it->second)) e->add_values(x);
    }
  }
  resp->set_dimension(static_cast<uint32_t>(m.table.dim()));
  resp->set_version(m.version);
  return grpc::Status::OK;
}

}  // namespace gr::service
