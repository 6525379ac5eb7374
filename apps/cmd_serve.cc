// graphrec serve (the gRPC server) and graphrec query (its command-line client).
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <google/protobuf/util/json_util.h>
#include <thread>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/rpc_client.h"
#include "core/error.h"
#include "proto/graphrec.grpc.pb.h"
#include "service/front.h"
#include "service/server.h"

namespace gr::apps {
namespace {

namespace pb = ::graphrec::v1;

// SIGINT / SIGTERM shut the server down cleanly. They are blocked before any
// thread starts (threads inherit the mask), and one thread waits for them.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

template <typename AnyServer>
void ServeUntilSignalled(AnyServer& server, sigset_t signals) {
  std::thread waiter([&server, signals] {
    int signal = 0;
    sigwait(&signals, &signal);
    spdlog::info("signal {}: shutting down", signal);
    server.Shutdown();
  });
  server.Wait();
  waiter.join();
}

struct QueryArgs {
  std::string address = "127.0.0.1:50051";
  std::vector<uint64_t> ids;
  uint32_t k = 10;
  bool exclude = false;
  std::string kind = "input";
  std::string source = "embedding";
  ClientOptions client;
  double timeout_seconds = 5;
  uint64_t time = 0;
};

// --json: protobuf's JSON mapping (64-bit ids as strings, enums as names)
// with the proto's snake_case field names, as every other command.
void Print(const google::protobuf::Message& message) {
  std::string text;
  if (JsonOutput()) {
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(message, &text, options);
    std::printf("%s\n", text.c_str());
  } else {
    std::printf("%s", message.DebugString().c_str());
  }
}

// Calls one rpc; prints the answer, or throws with the status.
template <typename Request, typename Response, typename Call>
void Query(const QueryArgs& args, const Request& request, Call call) {
  auto stub = ConnectTo(args.address, args.client);
  Response response;
  ThrowIfFailed(call(*stub, ContextWithTimeout(args.timeout_seconds, args.client.token).get(), request, &response),
                "query");
  Print(response);
}

pb::RecallSource SourceOf(const QueryArgs& args) {
  return args.source == "walks"        ? pb::RECALL_SOURCE_WALKS
         : args.source == "mixed"      ? pb::RECALL_SOURCE_MIXED
         : args.source == "consistent" ? pb::RECALL_SOURCE_CONSISTENT
                                       : pb::RECALL_SOURCE_EMBEDDING;
}

uint64_t OneId(const QueryArgs& args) {
  GR_CHECK(args.ids.size() == 1, "give exactly one --id");
  return args.ids[0];
}

}  // namespace

void AddServeCommands(CLI::App& app) {
  auto so = std::make_shared<service::ServerOptions>();
  auto* serve = app.add_subcommand("serve", "Answer gRPC queries from the live artifact version, reloading new ones");
  auto front = std::make_shared<service::FrontOptions>();
  auto shard = std::make_shared<std::string>();
  auto is_front = std::make_shared<bool>(false);
  serve->add_option("--artifacts", so->artifacts, "artifact directory (CURRENT and version directories); required "
                    "unless --front")->check(CLI::ExistingDirectory);
  serve->add_option("--shard", *shard,
                    "K/N: serve index shard K of N of each version (written by batch --index-shards N) behind a "
                    "--front; the recall rpcs answer from that shard's ids only");
  serve->add_flag("--front", *is_front,
                  "serve as the front of index shards: fan recall out to --shards and merge the top k, route the "
                  "other rpcs to the shard of their account");
  serve->add_option("--shards", front->shards,
                    "with --front: the shards' addresses in shard order, comma-separated or repeated; replicas of "
                    "one shard joined with '|' (IP literals) or one dns:///NAME:PORT target, balanced round robin")
      ->delimiter(',');
  serve->add_option("--event-writer", front->event_writer,
                    "with --front: the server PushEvents go to, the one that writes the event log (default: shard "
                    "0's address; give it when shard 0 has replicas, one of which writes)");
  auto events_role = std::make_shared<std::string>("auto");
  serve->add_option("--events", *events_role,
                    "the event log (ARTIFACTS/events) has one writer: 'write' logs PushEvents, 'follow' reads what "
                    "the writer appended (servers sharing the artifact directory) and refuses PushEvents; 'auto' "
                    "writes unless the server is a shard other than 0")
      ->check(CLI::IsMember({"auto", "write", "follow"}))
      ->capture_default_str();
  serve->add_option("--event-follow-ms", so->event_follow_ms, "a follower reads the writer's new events this often")
      ->capture_default_str()
      ->check(CLI::Range(1, 60000));
  serve->add_option("--address", so->address, "host:port to listen on (port 0 = any free port)")->capture_default_str();
  serve->add_option("--max-k", so->max_k, "largest k a recall request may ask for")->capture_default_str();
  serve->add_option("--max-ids", so->max_ids, "largest id list in GetEmbeddings and Rank")->capture_default_str();
  serve->add_option("--max-events", so->max_events, "largest PushEvents request (events)")->capture_default_str();
  serve->add_option("--event-sync", so->event_sync,
                    "fdatasync the event log (ARTIFACTS/events) before acknowledging pushed events; false leaves "
                    "flushing to the OS: a machine crash may lose acknowledged events")->capture_default_str();
  serve->add_option("--auth-tokens", so->auth_tokens,
                    "token file, lines 'TOKEN read|write|read,write': every rpc then needs a bearer token with the "
                    "read scope, PushEvents the write scope (health and reflection stay open)")
      ->check(CLI::ExistingFile);
  serve->add_option("--tls-cert", so->tls_cert, "serve TLS with this PEM certificate chain (with --tls-key)")
      ->check(CLI::ExistingFile);
  serve->add_option("--tls-key", so->tls_key, "PEM private key of --tls-cert")->check(CLI::ExistingFile);
  serve->add_option("--tls-client-ca", so->tls_client_ca,
                    "require client certificates that chain to these PEM CAs (mutual TLS)")
      ->check(CLI::ExistingFile);
  serve->add_option("--walk-max-steps", so->walk_max_steps,
                    "hops of the random walks behind one WALKS or MIXED recall request: quality vs time")
      ->capture_default_str();
  serve->add_option("--event-segment-bytes", so->event_segment_bytes,
                    "event log segment size; segments no live or previous version needs are deleted")
      ->capture_default_str();
  serve->add_option("--max-message-bytes", so->max_message_bytes, "gRPC receive and send limit")->capture_default_str();
  serve->add_option("--ef-search", so->ef_search,
                    "HNSW search depth for every index, overriding the stored one (0 = keep): speed vs recall")
      ->capture_default_str();
  serve->add_option("--poll-ms", so->poll_ms, "how often CURRENT is checked for a new version")->capture_default_str();
  serve->add_option("--drain-ms", so->drain_ms,
                    "on SIGTERM/SIGINT, report NOT_SERVING (gRPC health) this long before refusing new requests")
      ->capture_default_str();
  serve->add_option("--metrics-address", so->metrics_address,
                    "HOST:PORT to serve Prometheus metrics on (HTTP GET /metrics; port 0 picks one); none by default");
  serve->add_option("--refresh-seconds", so->refresh_seconds,
                    "every N s refresh the vectors of accounts whose follows changed since the version, index "
                    "new posts and authors, and update the indices in place; 0 = never")
      ->capture_default_str();
  serve->add_option("--refresh-walks", so->refresh_walks, "walks over the live graph from each refreshed account")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100000u));
  serve->add_option("--refresh-new-follow-share", so->refresh_new_follow_share,
                    "share of those walks whose first hop is one of the account's new follows")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  serve->add_option("--refresh-learning-rate", so->refresh_learning_rate,
                    "learning rate of the refresh's skip-gram updates")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 1.0));
  serve->add_option("--stats-log-seconds", so->stats_log_seconds, "log per-method latency every N s, 0 = never")
      ->capture_default_str();
  serve->add_option("--max-streams-per-connection", so->max_streams_per_connection,
                    "concurrent rpcs one connection may have open")->capture_default_str();
  serve->add_option("--idle-timeout-ms", so->idle_timeout_ms, "close a connection without rpcs after this long")
      ->capture_default_str();
  serve->add_option("--handshake-timeout-ms", so->handshake_timeout_ms,
                    "close a connection that has not finished its HTTP/2 preface by then")->capture_default_str();
  serve->add_option("--listener-check-ms", so->listener_check_ms,
                    "every N ms a new connection to our own port must succeed; after 3 misses the listener is "
                    "rebuilt (0 = off)")->capture_default_str();
  serve->add_option("--memory-quota-bytes", so->memory_quota_bytes,
                    "memory gRPC may hold for connections and messages in flight")->capture_default_str();
  serve->callback([so, front, shard, is_front, events_role] {
    const sigset_t signals = BlockStopSignals();
    if (*is_front) {
      GR_CHECK(so->artifacts.empty() && shard->empty(), "--front reads no artifacts and serves no shard: give it "
               "--shards, and --artifacts/--shard to the shard servers");
      GR_CHECK(*events_role == "auto", "--events is for the servers that read the artifacts; the front sends "
               "PushEvents to --event-writer");
      front->address = so->address;
      front->max_message_bytes = so->max_message_bytes;
      service::FrontServer server(*front);
      std::printf("graphrec serve: front listening on port %d\n", server.port());
      std::fflush(stdout);
      ServeUntilSignalled(server, signals);
      return;
    }
    GR_CHECK(front->shards.empty(), "--shards needs --front");
    GR_CHECK(front->event_writer.empty(), "--event-writer needs --front");
    using Role = service::ServerOptions::EventLogRole;
    so->event_log = *events_role == "write" ? Role::kWrite : *events_role == "follow" ? Role::kFollow : Role::kAuto;
    GR_CHECK(!so->artifacts.empty(), "--artifacts is required (unless --front)");
    if (!shard->empty()) so->shard = Shard::Parse(*shard);
    service::Server server(*so);
    std::printf("graphrec serve: listening on port %d\n", server.port());
    if (server.metrics_port() > 0) std::printf("graphrec serve: metrics on port %d\n", server.metrics_port());
    std::fflush(stdout);
    ServeUntilSignalled(server, signals);
  });

  auto qa = std::make_shared<QueryArgs>();
  auto* query = app.add_subcommand("query", "Call the graphrec gRPC service");
  query->require_subcommand(1);
  query->add_option("--address", qa->address, "server host:port")->capture_default_str();
  query->add_option("--timeout", qa->timeout_seconds, "deadline, seconds")->capture_default_str();
  AddClientOptions(query, qa->client);
  auto add_recall = [&](const char* name, const char* help, const char* exclude_help) {
    auto* cmd = query->add_subcommand(name, help);
    cmd->add_option("--id", qa->ids, "account id")->required();
    cmd->add_option("--k", qa->k, "results")->capture_default_str();
    cmd->add_flag("--exclude", qa->exclude, exclude_help);
    return cmd;
  };
  auto add_source = [&](CLI::App* cmd) {
    cmd->add_option("--source", qa->source,
                    "embedding (the version's index), walks (random walks over the live graph), mixed, or "
                    "consistent (posts only: the ranker-consistent towers)")
        ->check(CLI::IsMember({"embedding", "walks", "mixed", "consistent"}))->capture_default_str();
    return cmd;
  };
  add_recall("similar", "SimilarAccounts", "exclude accounts the account follows")->callback([qa] {
    pb::SimilarAccountsRequest r;
    r.set_account_id(OneId(*qa));
    r.set_k(qa->k);
    r.set_exclude_followed(qa->exclude);
    Query<pb::SimilarAccountsRequest, pb::RecallResponse>(*qa, r, [](auto& s, auto* c, auto& q, auto* a) {
      return s.SimilarAccounts(c, q, a);
    });
  });
  add_source(add_recall("authors", "RecallAuthors", "exclude authors the user follows"))->callback([qa] {
    pb::RecallAuthorsRequest r;
    r.set_user_id(OneId(*qa));
    r.set_k(qa->k);
    r.set_exclude_followed(qa->exclude);
    r.set_source(SourceOf(*qa));
    Query<pb::RecallAuthorsRequest, pb::RecallResponse>(*qa, r, [](auto& s, auto* c, auto& q, auto* a) {
      return s.RecallAuthors(c, q, a);
    });
  });
  add_source(add_recall("posts", "RecallPosts", "exclude posts the user interacted with"))->callback([qa] {
    pb::RecallPostsRequest r;
    r.set_user_id(OneId(*qa));
    r.set_k(qa->k);
    r.set_exclude_seen(qa->exclude);
    r.set_source(SourceOf(*qa));
    Query<pb::RecallPostsRequest, pb::RecallResponse>(*qa, r, [](auto& s, auto* c, auto& q, auto* a) {
      return s.RecallPosts(c, q, a);
    });
  });
  auto* emb = query->add_subcommand("embeddings", "GetEmbeddings");
  emb->add_option("--id", qa->ids, "ids (repeat)")->required();
  emb->add_option("--kind", qa->kind, "input, output (account vectors) or post")
      ->check(CLI::IsMember({"input", "output", "post"}))->capture_default_str();
  emb->callback([qa] {
    pb::GetEmbeddingsRequest r;
    for (uint64_t id : qa->ids) r.add_ids(id);
    r.set_kind(qa->kind == "input" ? pb::ACCOUNT_INPUT : qa->kind == "output" ? pb::ACCOUNT_OUTPUT : pb::POST);
    Query<pb::GetEmbeddingsRequest, pb::GetEmbeddingsResponse>(*qa, r, [](auto& s, auto* c, auto& q, auto* a) {
      return s.GetEmbeddings(c, q, a);
    });
  });
  auto* rank = query->add_subcommand("rank", "Rank (candidate posts for a user)");
  rank->add_option("--id", qa->ids, "user id, then candidate post ids")->required();
  rank->add_option("--time", qa->time, "request time, Unix seconds (0 = the version graph's newest timestamp)");
  rank->callback([qa] {
    GR_CHECK(qa->ids.size() >= 2, "give the user id and at least one post id: --id USER --id POST ...");
    pb::RankRequest r;
    r.set_user_id(qa->ids[0]);
    for (size_t i = 1; i < qa->ids.size(); ++i) r.add_post_ids(qa->ids[i]);
    r.set_time_unix_s(qa->time);
    Query<pb::RankRequest, pb::RankResponse>(*qa, r, [](auto& s, auto* c, auto& q, auto* a) { return s.Rank(c, q, a); });
  });
  query->add_subcommand("info", "ModelInfo")->callback([qa] {
    Query<pb::ModelInfoRequest, pb::ModelInfoResponse>(*qa, pb::ModelInfoRequest(), [](auto& s, auto* c, auto& q, auto* a) {
      return s.ModelInfo(c, q, a);
    });
  });
  query->add_subcommand("stats", "Stats")->callback([qa] {
    Query<pb::StatsRequest, pb::StatsResponse>(*qa, pb::StatsRequest(), [](auto& s, auto* c, auto& q, auto* a) {
      return s.Stats(c, q, a);
    });
  });
}

}  // namespace gr::apps
