// `graphrec serve`: the gRPC server of proto/graphrec.proto over the live
// artifact version (service/model.h) and the live graph the event log feeds
// (service/live_events.h), with gRPC's standard health checking
// and server reflection services, message size limits, per-method latency
// histograms (the Stats rpc, and a periodic log line) and hot reload. The
// listening port is never shared (no SO_REUSEPORT: a second server on the
// same port fails to start instead of taking half the traffic).
//
// Requests are answered on gRPC's callback API threads; each request works
// on the Model that was live when it started.
#pragma once

#include <cstdint>
#include <memory>
#include <functional>
#include <string>

#include "core/shard.h"

namespace gr::service {

struct RefreshPassReport;  // service/refresher.h

struct ServerOptions {
  std::string address = "127.0.0.1:50051";  // host:port; port 0 picks a free one
  std::string artifacts;                    // artifact directory (CURRENT + versions)
  uint32_t max_k = 1000;                    // largest k a recall request may ask for
  uint32_t max_ids = 1000;                  // largest id list (GetEmbeddings, Rank)
  uint32_t max_events = 100000;             // largest PushEvents request
  // fdatasync the event log (artifacts/events) before acknowledging pushed
  // events; false leaves flushing to the OS (a machine crash may then lose
  // acknowledged events; a server crash does not).
  bool event_sync = true;
  uint64_t event_segment_bytes = uint64_t{64} << 20;  // event log segment size (retention drops whole segments)
  uint32_t walk_max_steps = 5000;                      // hops per WALKS / MIXED recall request
  // Token file (service/auth.h): every rpc then needs a bearer token with
  // the read scope, PushEvents the write scope. "" = no authorization.
  std::string auth_tokens;
  // TLS (service/tls.h): PEM files; empty cert = plaintext. A client CA
  // makes client certificates required and verified (mutual TLS).
  std::string tls_cert, tls_key, tls_client_ca;
  int max_message_bytes = 16 << 20;         // receive and send limit
  int poll_ms = 1000;                       // how often CURRENT is checked
  uint32_t ef_search = 0;                   // > 0: overrides the indices' stored HNSW ef_search
  // Serve one index shard of the version (its shard-K-of-N directory): the
  // recall rpcs answer from that shard's accounts, authors and posts only,
  // for a front (service/front.h) that merges the shards. The whole
  // embedding table and graph are loaded (GetEmbeddings, Rank and the
  // filters answer as an unsharded server does).
  Shard shard;
  // The event log (artifacts/events) has one writer; servers sharing the
  // artifact directory follow it (service/live_events.h). kAuto: an
  // unsharded server and shard 0 write, the other shards follow. A
  // follower answers PushEvents FAILED_PRECONDITION.
  enum class EventLogRole { kAuto, kWrite, kFollow };
  EventLogRole event_log = EventLogRole::kAuto;
  int event_follow_ms = 100;                // a follower reads the writer's new events this often
  bool WritesEventLog() const {
    return event_log == EventLogRole::kWrite || (event_log == EventLogRole::kAuto && shard.index == 0);
  }
  int stats_log_seconds = 60;               // 0 = never log stats
  // Every this many seconds the accounts whose follows or followers changed
  // since the version get their vectors refreshed over the live graph, and
  // the indices follow (service/refresher.h); 0 = never.
  int refresh_seconds = 30;
  // Each refreshed account's walks over the live graph, the share of them
  // whose first hop is one of its new follows (service/refresher.h), and
  // the learning rate of its skip-gram updates (embed/row_refresh.h).
  uint32_t refresh_walks = 20;
  double refresh_new_follow_share = 0.3;
  float refresh_learning_rate = 0.01f;
  // On shutdown, health turns NOT_SERVING this long before the server stops
  // taking requests (give load balancers one health-check interval).
  int drain_ms = 0;
  // host:port for the Prometheus /metrics endpoint (HTTP); "" = none.
  std::string metrics_address;
  // Limits that keep one client from wedging the server for the others.
  uint32_t max_streams_per_connection = 100;  // concurrent rpcs on one connection
  int idle_timeout_ms = 5 * 60 * 1000;        // a connection without rpcs is closed after this
  int handshake_timeout_ms = 10 * 1000;       // a client must finish its connection preface by then
  // Memory gRPC may hold for connections and messages in flight (a resource
  // quota): beyond it gRPC refuses new work instead of growing.
  int64_t memory_quota_bytes = int64_t{1} << 30;
  // Every this many ms a fresh connection to the server's own port must
  // reach READY; after three misses in a row the gRPC server is rebuilt on
  // the same port. gRPC 1.51 stops accepting for good after one accept
  // error such as EMFILE (descriptors exhausted by idle clients); this
  // brings the listener back once descriptors are free. 0 = off.
  int listener_check_ms = 2000;
  // Tests: called with the bound port once the server listens (health
  // NOT_SERVING), before it loads its first version.
  std::function<void(int port)> before_first_load;

  void Validate() const;  // throws kInvalidArgument naming the field
};

// host:port (IPv4 or a name), [v6]:port, or unix:path; port in 0..65535.
// Throws kInvalidArgument naming the address otherwise (gRPC itself wraps a
// port above 65535 onto another port).
void CheckListenAddress(const std::string& address);

class Server {
 public:
  // Starts listening with health NOT_SERVING (the graphrec rpcs answer
  // UNAVAILABLE), loads the live version, then turns SERVING. Throws if
  // there is no version or it fails to load.
  explicit Server(const ServerOptions& options);
  ~Server();  // shuts down
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;  // the bound port
  int metrics_port() const;  // the /metrics port, 0 without metrics_address
  // Blocks until Shutdown is called (from another thread or a signal handler thread).
  void Wait();
  void Shutdown();
  // Checks CURRENT now (tests; the watcher does it every poll_ms).
  bool PollNow();
  // Runs a refresh pass now (tests; the refresher does it every
  // refresh_seconds) and returns its report.
  RefreshPassReport RefreshNow();
  // How often the listener watchdog rebuilt the gRPC server.
  int listener_restarts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gr::service
