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
#include "service/graphrec_service.h"
#include "service/auth.h"
#include "service/latency.h"
#include "service/live_events.h"
#include "service/live_recall.h"
#include "service/metrics.h"
#include "service/server_metrics.h"
#include "service/model.h"
#include "service/refresher.h"
#include "service/request_log.h"
#include "service/tls.h"

namespace gr::service {
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
        source(o.artifacts, std::chrono::milliseconds(o.poll_ms), o.ef_search, o.shard),
        live(o.artifacts,
             {.segment_bytes = o.event_segment_bytes,
              .sync = o.event_sync ? stream::SyncPolicy::kEveryCommit : stream::SyncPolicy::kNone},
             o.WritesEventLog() ? LiveEvents::Role::kWrite : LiveEvents::Role::kFollow),
        tokens(o.auth_tokens.empty() ? std::nullopt : std::optional<TokenTable>(TokenTable::Load(o.auth_tokens))),
        refresher(embed::RowRefreshConfig{.walks_per_row = o.refresh_walks,
                                          .learning_rate = o.refresh_learning_rate,
                                          .new_edge_share = o.refresh_new_follow_share,
                                          .threads = 1}),  // a pass takes one core, whatever it refreshes
        service(options, source, live, refresher, tokens ? &*tokens : nullptr) {
    if (tokens)
      spdlog::log(o.tls_cert.empty() ? spdlog::level::warn : spdlog::level::info,
                  "{} bearer tokens from {}{}", tokens->size(), o.auth_tokens,
                  o.tls_cert.empty() ? ": without TLS they travel in clear text (--tls-cert, --tls-key)" : "");
    source.OnNewModel([this](const std::shared_ptr<const Model>& model) { live.Rebuild(model); });
  }

  RefreshPassReport RefreshPass() {
    std::lock_guard lock(refresh_mutex);
    const std::shared_ptr<const LiveState> state = live.state();
    if (state == nullptr) return {};
    return refresher.Pass(*state, live.TakeTouched());
  }

  // Health, for "" and for the service's name: SERVING once a version is
  // loaded.
  static void SetHealth(grpc::Server& server, bool serving) {
    if (grpc::HealthCheckServiceInterface* health = server.GetHealthCheckService()) {
      health->SetServingStatus("", serving);
      health->SetServingStatus(::graphrec::v1::Graphrec::service_full_name(), serving);
    }
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
    if (built != nullptr) SetHealth(*built, source.Get() != nullptr);
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
  Refresher refresher;
  std::mutex refresh_mutex;  // one pass at a time
  GraphrecService service;
  std::unique_ptr<grpc::Server> server;  // replaced by the watchdog under `mutex`
  int port = 0;
  int listener_restarts = 0;
  std::mutex mutex;
  std::condition_variable stop_signal;
  bool stopped = false;
  std::thread stats_logger, listener_watchdog, refresh_thread, event_follower;
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
  if (!options.metrics_address.empty()) {
    impl_->metrics = std::make_unique<MetricsEndpoint>(
        options.metrics_address, [impl = impl_.get()] {
          return RenderServerMetrics(impl->service.requests(), impl->source, impl->live, impl->refresher,
                                     impl->options.artifacts);
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
  spdlog::info("listening on port {} (address {}); loading the live version", impl_->port, options.address);
  try {
    if (options.before_first_load) options.before_first_load(impl_->port);
    impl_->source.LoadFirst();
  } catch (...) {
    Shutdown();
    throw;
  }
  impl_->SetHealth(*impl_->server, true);
  impl_->source.StartWatching();
  if (options.refresh_seconds > 0) {
    impl_->refresh_thread = std::thread([impl = impl_.get()] {
      std::unique_lock lock(impl->mutex);
      while (!impl->stop_signal.wait_for(lock, std::chrono::seconds(impl->options.refresh_seconds),
                                         [impl] { return impl->stopped; })) {
        lock.unlock();
        try {
          impl->RefreshPass();
        } catch (const std::exception& e) {
          spdlog::error("refresh pass failed: {}", e.what());
        }
        lock.lock();
      }
    });
  }
  if (!impl_->live.writes_log()) {
    impl_->event_follower = std::thread([impl = impl_.get()] {
      std::unique_lock lock(impl->mutex);
      bool failing = false;  // one error line per outage, not one per poll
      while (!impl->stop_signal.wait_for(lock, std::chrono::milliseconds(impl->options.event_follow_ms),
                                         [impl] { return impl->stopped; })) {
        lock.unlock();
        try {
          impl->live.CatchUp();
          if (failing) spdlog::info("event log {}: following again", impl->live.log_dir());
          failing = false;
        } catch (const std::exception& e) {
          if (!failing) spdlog::error("event log {}: cannot follow it: {}", impl->live.log_dir(), e.what());
          failing = true;
        }
        lock.lock();
      }
    });
  }
  if (options.listener_check_ms > 0 && ProbeCredentialsFor(impl_->Tls()) == nullptr)
    spdlog::warn("listener watchdog off: the server requires client certificates, which its probe does not have");
  else if (options.listener_check_ms > 0)
    impl_->listener_watchdog = std::thread([impl = impl_.get()] { impl->WatchListener(); });
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

RefreshPassReport Server::RefreshNow() { return impl_->RefreshPass(); }

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
  // Health Watch streams stay open until their clients leave, and gRPC counts
  // them as calls in flight: waiting for the graphrec rpcs alone, then
  // giving a request that just arrived a moment, keeps an open Watch (every
  // load balancer holds one) from stretching each shutdown to the 5 s.
  if (auto* health = impl_->server->GetHealthCheckService()) health->Shutdown();
  if (impl_->options.drain_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(impl_->options.drain_ms));
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (impl_->service.requests().in_flight() > 0 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  if (impl_->stats_logger.joinable()) impl_->stats_logger.join();
  if (impl_->refresh_thread.joinable()) impl_->refresh_thread.join();
  if (impl_->event_follower.joinable()) impl_->event_follower.join();
  impl_->metrics.reset();
  impl_->service.LogStats();
}

}  // namespace gr::service
