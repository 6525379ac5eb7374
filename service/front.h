// `graphrec serve --front`: one address in front of index shards
// (`graphrec serve --shard K/N`, service/server.h). Embedding recall
// (SimilarAccounts, RecallAuthors and RecallPosts from the embedding) is sent
// to every shard at once and the shards' top-k lists are merged by score;
// the rpcs every shard answers whole (GetEmbeddings, Rank, walk and
// ranker-consistent recall, ModelInfo) go to one shard, the one that holds
// the request's account, so a user's requests stay on one shard's caches.
//
// A shard is one gRPC target: "host:port", or several replicas of the same
// shard joined with '|' ("10.0.0.1:50051|10.0.0.2:50051"), among which gRPC's
// client-side round_robin policy spreads the calls (a "dns:///name:port"
// target with several addresses works the same way). The client's deadline
// and bearer token travel on to the shards. If a shard fails, the request
// fails with its status (a merged answer never silently misses a shard).
//
// PushEvents goes to the server that writes the event log: shard 0 (which
// writes it by default) or the event_writer target. The shards share the
// artifact directory and the other shards follow the log
// (service/live_events.h), so an event reaches every shard's live graph
// within its follow interval (100 ms) after the writer acknowledged it.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace gr::service {

struct FrontOptions {
  std::string address = "127.0.0.1:50051";  // host:port; port 0 picks a free one
  std::vector<std::string> shards;          // shard K's target at position K
  std::string event_writer;                 // PushEvents' target; "" = shard 0's
  int max_message_bytes = 16 << 20;

  void Validate() const;  // throws kInvalidArgument naming the field
};

// The gRPC target of one --shards entry: replicas joined with '|' become an
// "ipv4:" (or "ipv6:") list for round_robin; one address is kept as given.
// Throws kInvalidArgument for an empty entry or replicas that are not IP
// literals with ports.
std::string ShardTarget(const std::string& shard);

class FrontServer {
 public:
  // Listens and serves at once (health SERVING); shards are connected lazily.
  explicit FrontServer(const FrontOptions& options);
  ~FrontServer();
  FrontServer(const FrontServer&) = delete;
  FrontServer& operator=(const FrontServer&) = delete;

  int port() const;
  void Wait();
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gr::service
