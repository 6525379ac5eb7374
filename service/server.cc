#include "service/server.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <array>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "core/error.h"
#include "proto/graphrec.grpc.pb.h"
#include "service/auth.h"
#include "service/latency.h"
#include "service/live_events.h"
#include "service/live_recall.h"
#include "service/metrics.h"
#include "service/server_metrics.h"
#include "service/model.h"
#include "service/request_log.h"
#include "service/tls.h"

namespace gr::service {
namespace {

namespace pb = ::graphrec::v1;
using Clock = std::chrono::steady_clock;

enum Method {
  kSimilarAccounts, kRecallAuthors, kRecallPosts, kGetEmbeddings, kRank, kModelInfo, kStats, kPushEvents, kNumMethods
};
constexpr std::array<const char*, kNumMethods> kMethodNames = {
    "SimilarAccounts", "RecallAuthors", "RecallPosts", "GetEmbeddings", "Rank", "ModelInfo", "Stats", "PushEvents"};

static_assert(static_cast<int>(RecallSource::kEmbedding) == pb::RECALL_SOURCE_EMBEDDING &&
              static_cast<int>(RecallSource::kWalks) == pb::RECALL_SOURCE_WALKS &&
              static_cast<int>(RecallSource::kMixed) == pb::RECALL_SOURCE_MIXED);

grpc::Status ToStatus(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kNotFound: return {grpc::StatusCode::NOT_FOUND, e.what()};
    case ErrorCode::kInvalidArgument: return {grpc::StatusCode::INVALID_ARGUMENT, e.what()};
    default: return {grpc::StatusCode::INTERNAL, e.what()};
  }
}

class ServiceImpl final : public pb::Graphrec::CallbackService {
 public:
  ServiceImpl(const ServerOptions& options, ModelSource& source, LiveEvents& live, const TokenTable* tokens)
      : options_(options), source_(source), live_(live), tokens_(tokens) {}

  grpc::ServerUnaryReactor* SimilarAccounts(grpc::CallbackServerContext* ctx, const pb::SimilarAccountsRequest* req,
                                            pb::RecallResponse* resp) override {
    return Serve(kSimilarAccounts, ctx, [&](const Model& m) {
      return Recall(m, recall::RecallKind::kSimilarAccounts, req->account_id(), req->k(), req->exclude_followed(), resp);
    });
  }
  grpc::ServerUnaryReactor* RecallAuthors(grpc::CallbackServerContext* ctx, const pb::RecallAuthorsRequest* req,
                                          pb::RecallResponse* resp) override {
    return Serve(kRecallAuthors, ctx, [&](const Model& m) {
      return Recall(m, recall::RecallKind::kAuthors, req->user_id(), req->k(), req->exclude_followed(), resp,
                    req->source());
    });
  }
  grpc::ServerUnaryReactor* RecallPosts(grpc::CallbackServerContext* ctx, const pb::RecallPostsRequest* req,
                                        pb::RecallResponse* resp) override {
    return Serve(kRecallPosts, ctx, [&](const Model& m) {
      return Recall(m, recall::RecallKind::kPosts, req->user_id(), req->k(), req->exclude_seen(), resp, req->source());
    });
  }
  grpc::ServerUnaryReactor* GetEmbeddings(grpc::CallbackServerContext* ctx, const pb::GetEmbeddingsRequest* req,
                                          pb::GetEmbeddingsResponse* resp) override {
    return Serve(kGetEmbeddings, ctx, [&](const Model& m) { return Embeddings(m, *req, resp); });
  }
  grpc::ServerUnaryReactor* Rank(grpc::CallbackServerContext* ctx, const pb::RankRequest* req,
                                 pb::RankResponse* resp) override {
    return Serve(kRank, ctx, [&](const Model& m) {
      if (req->post_ids().empty()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no candidate posts");
      if (static_cast<uint32_t>(req->post_ids_size()) > options_.max_ids)
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            StrCat(req->post_ids_size(), " candidates, at most ", options_.max_ids));
      if (m.ranker == nullptr)
        return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, StrCat("version ", m.version, " has no ranker"));
      if (req->time_unix_s() > UINT32_MAX)
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, StrCat("time_unix_s ", req->time_unix_s(), " is out of range"));
      const auto time = static_cast<uint32_t>(req->time_unix_s() > 0 ? req->time_unix_s() : m.graph.reference_time);
      const std::vector<ExternalId> posts(req->post_ids().begin(), req->post_ids().end());
      for (const auto& r : m.ranker->Rank(*m.features, req->user_id(), posts, time, NewPostsOf(*live_.state(), m.graph, posts))) {
        auto* out = resp->add_posts();
        out->set_post_id(r.post);
        out->set_click(r.scores[ranking::kClickTask]);
        out->set_interaction(r.scores[ranking::kInteractionTask]);
        out->set_dwell_seconds(r.scores[ranking::kDwellTask]);
        out->set_score(r.fused);
      }
      resp->set_version(m.version);
      return grpc::Status::OK;
    });
  }
  grpc::ServerUnaryReactor* ModelInfo(grpc::CallbackServerContext* ctx, const pb::ModelInfoRequest*,
                                      pb::ModelInfoResponse* resp) override {
    return Serve(kModelInfo, ctx, [&](const Model& m) {
      resp->set_version(m.version);
      resp->set_accounts(m.graph.num_accounts());
      resp->set_posts(m.graph.num_posts());
      resp->set_follow_edges(m.graph.following.num_edges());
      resp->set_dimension(static_cast<uint32_t>(m.table.dim()));
      resp->set_indexed_accounts(m.indexes.accounts ? m.indexes.accounts->size() : 0);
      resp->set_indexed_authors(m.indexes.authors ? m.indexes.authors->size() : 0);
      resp->set_indexed_posts(m.indexes.posts ? m.indexes.posts->size() : 0);
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
  grpc::ServerUnaryReactor* Stats(grpc::CallbackServerContext* ctx, const pb::StatsRequest*,
                                  pb::StatsResponse* resp) override {
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

  grpc::ServerUnaryReactor* PushEvents(grpc::CallbackServerContext* ctx, const pb::PushEventsRequest* req,
                                       pb::PushEventsResponse* resp) override {
    return Serve(kPushEvents, ctx, [&](const Model&) -> grpc::Status {
      const auto count = static_cast<uint32_t>(req->events_size());
      if (count == 0 || count > options_.max_events)
        return {grpc::StatusCode::INVALID_ARGUMENT, StrCat(count, " events; send 1..", options_.max_events)};
      std::vector<stream::Event> events(count);
      for (uint32_t i = 0; i < count; ++i) {
        const pb::Event& in = req->events(static_cast<int>(i));
        if (in.kind() <= pb::EVENT_KIND_UNSPECIFIED || in.kind() > pb::EVENT_ACCOUNT || in.interaction() > 3)
          return {grpc::StatusCode::INVALID_ARGUMENT,
                  StrCat("event ", i, ": kind ", static_cast<int>(in.kind()), ", interaction ", in.interaction(),
                         " (kinds EVENT_FOLLOW..EVENT_ACCOUNT, interactions 0-3)")};
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

  const RequestStats& requests() const { return stats_; }

  void LogStats() const {
    for (int i = 0; i < kNumMethods; ++i) {
      const auto s = stats_.latency(static_cast<size_t>(i)).Summarize();
      if (s.requests == 0) continue;
      spdlog::info("{}: {} requests, {} errors, p50 {:.3f} ms, p99 {:.3f} ms, p999 {:.3f} ms, max {:.3f} ms",
                   kMethodNames[static_cast<size_t>(i)], s.requests, s.errors, s.p50_ms, s.p99_ms, s.p999_ms,
                   s.max_ms);
    }
  }

 private:
  // Runs `handle` on the live model with deadline checks, maps errors to
  // status codes (never lets one escape), records the latency.
  template <typename Handler>
  grpc::ServerUnaryReactor* Serve(Method method, grpc::CallbackServerContext* ctx, Handler&& handle) {
    const auto start = Clock::now();
    stats_.Begin();
    grpc::Status status = Authorize(method, *ctx);
    if (!status.ok()) {
      // refused before any work
    } else if (ctx->deadline() < std::chrono::system_clock::now()) {
      status = {grpc::StatusCode::DEADLINE_EXCEEDED, "the deadline passed before the request was served"};
    } else {
      try {
        const std::shared_ptr<const Model> model = source_.Get();  // held until the answer is built
        status = handle(*model);
      } catch (const Error& e) {
        status = ToStatus(e);
      } catch (const std::exception& e) {
        status = {grpc::StatusCode::INTERNAL, e.what()};
      }
      if (status.ok() && ctx->deadline() < std::chrono::system_clock::now())
        status = {grpc::StatusCode::DEADLINE_EXCEEDED, "the deadline passed while the request was served"};
    }
    stats_.End(method, std::chrono::duration<double>(Clock::now() - start).count(), status.error_code());
    if (!status.ok()) LogFailedRequest(kMethodNames[method], status.error_code(), status.error_message());
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }

  // With a token table, the request's bearer token must grant the method's
  // scope: write for PushEvents, read for the rest.
  grpc::Status Authorize(Method method, const grpc::CallbackServerContext& ctx) const {
    if (tokens_ == nullptr) return grpc::Status::OK;
    const auto& metadata = ctx.client_metadata();
    const auto it = metadata.find("authorization");
    const uint8_t scopes =
        it == metadata.end() ? 0 : tokens_->ScopesOf(std::string_view(it->second.data(), it->second.size()));
    if (scopes == 0)
      return {grpc::StatusCode::UNAUTHENTICATED, "a known bearer token is required (metadata authorization: Bearer TOKEN)"};
    const bool write = method == kPushEvents;
    if ((scopes & (write ? kScopeWrite : kScopeRead)) == 0)
      return {grpc::StatusCode::PERMISSION_DENIED, StrCat("this token may not ", write ? "write" : "read")};
    return grpc::Status::OK;
  }

  // Similar accounts (source unused) or user -> authors / posts from `source`.
  grpc::Status Recall(const Model& m, recall::RecallKind kind, uint64_t id, uint32_t k, bool exclude,
                      pb::RecallResponse* resp, pb::RecallSource source = pb::RECALL_SOURCE_EMBEDDING) const {
    if (k == 0 || k > options_.max_k)
      return {grpc::StatusCode::INVALID_ARGUMENT, StrCat("k must be in 1..", options_.max_k, ", got ", k)};
    if (source < pb::RECALL_SOURCE_EMBEDDING || source > pb::RECALL_SOURCE_MIXED)
      return {grpc::StatusCode::INVALID_ARGUMENT, StrCat("unknown recall source ", static_cast<int>(source))};
    if (m.indexes.For(kind) == nullptr && source != pb::RECALL_SOURCE_WALKS)
      return {grpc::StatusCode::UNIMPLEMENTED,
              StrCat("version ", m.version, " has no ", recall::RecallKindName(kind), " index")};
    const auto results =
        kind == recall::RecallKind::kSimilarAccounts
            ? m.recaller->Recall(kind, id, k, exclude)
            : RecallBySource(m, *live_.state(), kind, id, k, exclude, static_cast<RecallSource>(source),
                             {.max_steps = options_.walk_max_steps});
    for (const auto& r : results) {
      resp->add_ids(r.id);
      resp->add_scores(r.score);
    }
    resp->set_version(m.version);
    return grpc::Status::OK;
  }

  grpc::Status Embeddings(const Model& m, const pb::GetEmbeddingsRequest& req, pb::GetEmbeddingsResponse* resp) const {
    if (req.ids().empty()) return {grpc::StatusCode::INVALID_ARGUMENT, "no ids"};
    if (static_cast<uint32_t>(req.ids_size()) > options_.max_ids)
      return {grpc::StatusCode::INVALID_ARGUMENT, StrCat(req.ids_size(), " ids, at most ", options_.max_ids)};
    const bool output = req.kind() == pb::ACCOUNT_OUTPUT;
    if (output && m.table.output.rows() != m.table.rows())
      return {grpc::StatusCode::UNIMPLEMENTED, StrCat("version ", m.version, " has no output vectors")};
    if (req.kind() == pb::POST && m.indexes.posts == nullptr)
      return {grpc::StatusCode::UNIMPLEMENTED, StrCat("version ", m.version, " has no post vectors")};
    for (const uint64_t id : req.ids()) {
      auto* e = resp->add_embeddings();
      e->set_id(id);
      if (req.kind() == pb::POST) {
        const uint32_t item = m.indexes.posts->Find(id);
        if (item == kNoVertex) return {grpc::StatusCode::NOT_FOUND, StrCat("post ", id, " has no vector")};
        for (float x : m.indexes.posts->Vector(item)) e->add_values(x);
      } else {
        const auto it = m.account_row.find(id);
        if (it == m.account_row.end()) return {grpc::StatusCode::NOT_FOUND, StrCat("account ", id, " has no vector")};
        for (float x : (output ? m.table.output : m.table.input).Row(it->second)) e->add_values(x);
      }
    }
    resp->set_dimension(static_cast<uint32_t>(m.table.dim()));
    resp->set_version(m.version);
    return grpc::Status::OK;
  }

  const ServerOptions& options_;
  ModelSource& source_;
  LiveEvents& live_;
  const TokenTable* tokens_;  // null: no authorization
  RequestStats stats_{std::vector<std::string>(kMethodNames.begin(), kMethodNames.end())};

};

}  // namespace

namespace {

// Descriptors are what idle or slow clients use up: take the hard limit.
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) == 0)
    spdlog::info("open-file limit raised from {} to {}", before, limit.rlim_cur);
}

}  // namespace

struct Server::Impl {
  explicit Impl(const ServerOptions& o)
      : options(o),
        source(o.artifacts, std::chrono::milliseconds(o.poll_ms), o.ef_search),
        live(o.artifacts,
             {.segment_bytes = o.event_segment_bytes,
              .sync = o.event_sync ? stream::SyncPolicy::kEveryCommit : stream::SyncPolicy::kNone},
             source.Get()),
        tokens(o.auth_tokens.empty() ? std::nullopt : std::optional<TokenTable>(TokenTable::Load(o.auth_tokens))),
        service(options, source, live, tokens ? &*tokens : nullptr) {
    if (tokens)
      spdlog::log(o.tls_cert.empty() ? spdlog::level::warn : spdlog::level::info,
                  "{} bearer tokens from {}{}", tokens->size(), o.auth_tokens,
                  o.tls_cert.empty() ? ": without TLS they travel in clear text (--tls-cert, --tls-key)" : "");
    source.OnNewModel([this](const std::shared_ptr<const Model>& model) { live.Rebuild(model); });
  }

  // Builds and starts the gRPC server on `address`; sets port. Null if it
  // cannot listen.
  std::unique_ptr<grpc::Server> Build(const std::string& address) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(address, ServerCredentialsFor(Tls()), &port);
    builder.RegisterService(&service);
    builder.SetMaxReceiveMessageSize(options.max_message_bytes);
    builder.SetMaxSendMessageSize(options.max_message_bytes);
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, static_cast<int>(options.max_streams_per_connection));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, options.idle_timeout_ms);
    builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, options.handshake_timeout_ms);
    // Clients may ping to keep a connection alive, but not flood it.
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10 * 1000);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
    grpc::ResourceQuota quota("graphrec-serve");
    quota.Resize(static_cast<size_t>(options.memory_quota_bytes));
    builder.SetResourceQuota(quota);
    std::unique_ptr<grpc::Server> built = builder.BuildAndStart();
    // Health: the server listens only once a version is loaded, so it is
    // SERVING from its first answer, for "" and for the service's name.
    if (built != nullptr && built->GetHealthCheckService() != nullptr) {
      built->GetHealthCheckService()->SetServingStatus("", true);
      built->GetHealthCheckService()->SetServingStatus(pb::Graphrec::service_full_name(), true);
    }
    return built;
  }

  // Whether a new connection to our own port gets through the HTTP/2
  // handshake (gRPC's I/O threads answer it however busy the handlers are).
  bool ListenerAnswers() const {
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
    const auto channel = grpc::CreateCustomChannel(ProbeTarget(), ProbeCredentialsFor(Tls()), arguments);
    return channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  TlsFiles Tls() const { return {options.tls_cert, options.tls_key, options.tls_client_ca}; }

  // The configured address with the port actually bound (port 0 picks one).
  std::string BoundAddress() const {
    if (options.address.starts_with("unix:")) return options.address;
    return options.address.substr(0, options.address.rfind(':') + 1) + std::to_string(port);
  }

  // BoundAddress as a client reaches it: loopback for a wildcard host.
  std::string ProbeTarget() const {
    const std::string bound = BoundAddress();
    if (bound.starts_with("0.0.0.0:")) return "127.0.0.1" + bound.substr(7);
    if (bound.starts_with("[::]:")) return "[::1]" + bound.substr(4);
    return bound;
  }

  void WatchListener() {
    std::unique_lock lock(mutex);
    int misses = 0;
    while (!stop_signal.wait_for(lock, std::chrono::milliseconds(options.listener_check_ms), [this] { return stopped; })) {
      lock.unlock();
      const bool answers = ListenerAnswers();
      lock.lock();
      if (stopped) break;
      misses = answers ? 0 : misses + 1;
      if (misses < 3) continue;
      spdlog::error("port {} accepts no new connections: rebuilding the gRPC server", port);
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
      server.reset();
      const int bound = port;
      const std::string address = BoundAddress();
      server = Build(address);
      if (server == nullptr) {
        spdlog::error("cannot listen on {} yet; trying again", address);
        port = bound;
        continue;
      }
      ++listener_restarts;
      misses = 0;
    }
  }

  ServerOptions options;
  ModelSource source;
  LiveEvents live;
  std::optional<TokenTable> tokens;
  ServiceImpl service;
  std::unique_ptr<grpc::Server> server;  // replaced by the watchdog under `mutex`
  int port = 0;
  int listener_restarts = 0;
  std::mutex mutex;
  std::condition_variable stop_signal;
  bool stopped = false;
  std::thread stats_logger, listener_watchdog;
  std::unique_ptr<MetricsEndpoint> metrics;  // with options.metrics_address
};

Server::Server(const ServerOptions& options) {
  options.Validate();
  // Debian builds Abseil without NDEBUG, which leaves Mutex deadlock
  // detection on: every lock gRPC takes then updates a global lock-order
  // graph (~4 % of the server's CPU under load in a perf profile). The
  // server's own locking is not Abseil's.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  RouteGrpcLogs();
  impl_ = std::make_unique<Impl>(options);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  RaiseOpenFileLimit();
  impl_->server = impl_->Build(options.address);
  GR_CHECK_CODE(impl_->server != nullptr && impl_->port > 0, ErrorCode::kIo, "cannot listen on ", options.address);
  impl_->source.StartWatching();
  if (!options.metrics_address.empty()) {
    impl_->metrics = std::make_unique<MetricsEndpoint>(
        options.metrics_address, [impl = impl_.get()] {
          return RenderServerMetrics(impl->service.requests(), impl->source, impl->live, impl->options.artifacts);
        });
    spdlog::info("metrics on port {} (HTTP GET /metrics)", impl_->metrics->port());
  }
  if (options.stats_log_seconds > 0) {
    impl_->stats_logger = std::thread([impl = impl_.get()] {
      std::unique_lock lock(impl->mutex);
      while (!impl->stop_signal.wait_for(lock, std::chrono::seconds(impl->options.stats_log_seconds),
                                         [impl] { return impl->stopped; }))
        impl->service.LogStats();
    });
  }
  if (options.listener_check_ms > 0 && ProbeCredentialsFor(impl_->Tls()) == nullptr)
    spdlog::warn("listener watchdog off: the server requires client certificates, which its probe does not have");
  else if (options.listener_check_ms > 0)
    impl_->listener_watchdog = std::thread([impl = impl_.get()] { impl->WatchListener(); });
  spdlog::info("listening on port {} (address {})", impl_->port, options.address);
}

Server::~Server() { Shutdown(); }

int Server::port() const { return impl_->port; }

int Server::metrics_port() const { return impl_->metrics ? impl_->metrics->port() : 0; }

void Server::Wait() {
  // Not grpc::Server::Wait: the watchdog may replace that server.
  std::unique_lock lock(impl_->mutex);
  impl_->stop_signal.wait(lock, [this] { return impl_->stopped; });
}

int Server::listener_restarts() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->listener_restarts;
}

bool Server::PollNow() { return impl_->source.Poll(); }

void Server::Shutdown() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->stop_signal.notify_all();
  if (impl_->listener_watchdog.joinable()) impl_->listener_watchdog.join();  // no rebuild after this
  // NOT_SERVING first (health watchers and load balancers move traffic
  // away during the drain), then requests in flight get up to 5 s to finish.
  if (auto* health = impl_->server->GetHealthCheckService()) health->Shutdown();
  if (impl_->options.drain_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(impl_->options.drain_ms));
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (impl_->stats_logger.joinable()) impl_->stats_logger.join();
  impl_->metrics.reset();
  impl_->service.LogStats();
}

}  // namespace gr::service
