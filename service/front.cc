#include "service/front.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include "core/error.h"
#include "core/shard.h"
#include "proto/graphrec.grpc.pb.h"
#include "recall/walk_recall.h"
#include "service/server.h"

namespace gr::service {
namespace {

namespace pb = ::graphrec::v1;
using Stub = pb::Graphrec::Stub;

// A call to one shard that inherits the client's deadline and bearer token.
std::unique_ptr<grpc::ClientContext> ShardContext(const grpc::CallbackServerContext& client) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(client.deadline());
  const auto& metadata = client.client_metadata();
  if (const auto it = metadata.find("authorization"); it != metadata.end())
    context->AddMetadata("authorization", std::string(it->second.data(), it->second.size()));
  return context;
}

bool IsAddressWithPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  return colon != std::string::npos && colon > 0 && colon + 1 < address.size() &&
         std::all_of(address.begin() + static_cast<std::ptrdiff_t>(colon) + 1, address.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// The shards' lists merged: best score first (ties by id), k at most, one
// version name (the distinct ones joined with ',' while shards roll over).
void MergeTopK(const std::vector<pb::RecallResponse>& answers, uint32_t k, pb::RecallResponse* merged) {
  std::vector<std::pair<float, uint64_t>> all;
  std::set<std::string> versions;
  for (const pb::RecallResponse& answer : answers) {
    for (int i = 0; i < answer.ids_size(); ++i) all.emplace_back(answer.scores(i), answer.ids(i));
    versions.insert(answer.version());
  }
  const size_t keep = std::min<size_t>(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(keep), all.end(),
                    [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  for (size_t i = 0; i < keep; ++i) {
    merged->add_ids(all[i].second);
    merged->add_scores(all[i].first);
  }
  std::string version;
  for (const std::string& v : versions) version += (version.empty() ? "" : ",") + v;
  merged->set_version(version);
}

uint64_t UserOf(const pb::SimilarAccountsRequest& r) { return r.account_id(); }
uint64_t UserOf(const pb::RecallAuthorsRequest& r) { return r.user_id(); }
uint64_t UserOf(const pb::RecallPostsRequest& r) { return r.user_id(); }

class FrontService final : public pb::Graphrec::CallbackService {
 public:
  explicit FrontService(const FrontOptions& options) {
    grpc::ChannelArguments args;
    args.SetLoadBalancingPolicyName("round_robin");
    args.SetMaxReceiveMessageSize(options.max_message_bytes);
    args.SetMaxSendMessageSize(options.max_message_bytes);
    for (const std::string& shard : options.shards)
      stubs_.push_back(pb::Graphrec::NewStub(
          grpc::CreateCustomChannel(ShardTarget(shard), grpc::InsecureChannelCredentials(), args)));
    if (!options.event_writer.empty())
      event_writer_ = pb::Graphrec::NewStub(
          grpc::CreateCustomChannel(options.event_writer, grpc::InsecureChannelCredentials(), args));
  }

  grpc::ServerUnaryReactor* SimilarAccounts(grpc::CallbackServerContext* ctx, const pb::SimilarAccountsRequest* req,
                                            pb::RecallResponse* resp) override {
    return FanOut(ctx, req, resp, req->k(), [](Stub::async_interface* shard, auto... call) {
      shard->SimilarAccounts(call...);
    });
  }

  grpc::ServerUnaryReactor* RecallAuthors(grpc::CallbackServerContext* ctx, const pb::RecallAuthorsRequest* req,
                                          pb::RecallResponse* resp) override {
    auto call = [](Stub::async_interface* shard, auto... args) { shard->RecallAuthors(args...); };
    switch (req->source()) {
      case pb::RECALL_SOURCE_EMBEDDING: return FanOut(ctx, req, resp, req->k(), call);
      case pb::RECALL_SOURCE_WALKS: return Route(ctx, req, resp, ShardOf(req->user_id()), call);
      case pb::RECALL_SOURCE_MIXED: return Mixed(ctx, req, resp, call);
      default: return Refuse(ctx, "the front answers RecallAuthors from EMBEDDING, WALKS or MIXED only");
    }
  }

  grpc::ServerUnaryReactor* RecallPosts(grpc::CallbackServerContext* ctx, const pb::RecallPostsRequest* req,
                                        pb::RecallResponse* resp) override {
    auto call = [](Stub::async_interface* shard, auto... args) { shard->RecallPosts(args...); };
    switch (req->source()) {
      case pb::RECALL_SOURCE_EMBEDDING: return FanOut(ctx, req, resp, req->k(), call);
      case pb::RECALL_SOURCE_WALKS:
      case pb::RECALL_SOURCE_CONSISTENT: return Route(ctx, req, resp, ShardOf(req->user_id()), call);
      case pb::RECALL_SOURCE_MIXED: return Mixed(ctx, req, resp, call);
      default: return Refuse(ctx, "unknown recall source");
    }
  }

  grpc::ServerUnaryReactor* GetEmbeddings(grpc::CallbackServerContext* ctx, const pb::GetEmbeddingsRequest* req,
                                          pb::GetEmbeddingsResponse* resp) override {
    const uint32_t shard = req->ids().empty() ? 0 : ShardOf(req->ids(0));
    return Route(ctx, req, resp, shard, [](Stub::async_interface* s, auto... args) { s->GetEmbeddings(args...); });
  }

  grpc::ServerUnaryReactor* Rank(grpc::CallbackServerContext* ctx, const pb::RankRequest* req,
                                 pb::RankResponse* resp) override {
    return Route(ctx, req, resp, ShardOf(req->user_id()),
                 [](Stub::async_interface* s, auto... args) { s->Rank(args...); });
  }

  grpc::ServerUnaryReactor* ModelInfo(grpc::CallbackServerContext* ctx, const pb::ModelInfoRequest* req,
                                      pb::ModelInfoResponse* resp) override {
    return Route(ctx, req, resp, 0, [](Stub::async_interface* s, auto... args) { s->ModelInfo(args...); });
  }

  grpc::ServerUnaryReactor* Stats(grpc::CallbackServerContext* ctx, const pb::StatsRequest*,
                                  pb::StatsResponse*) override {
    return Refuse(ctx, "the front keeps no request statistics; ask each shard");
  }

  // To the server that writes the event log (shard 0 unless --event-writer
  // names another); the other shards follow the log.
  grpc::ServerUnaryReactor* PushEvents(grpc::CallbackServerContext* ctx, const pb::PushEventsRequest* req,
                                       pb::PushEventsResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    std::shared_ptr<grpc::ClientContext> context = ShardContext(*ctx);
    Stub* writer = event_writer_ != nullptr ? event_writer_.get() : stubs_[0].get();
    writer->async()->PushEvents(context.get(), req, resp, [reactor, context](const grpc::Status& status) {
      reactor->Finish(status.ok() ? status : grpc::Status(status.error_code(), "event writer: " + status.error_message()));
    });
    return reactor;
  }

 private:
  uint32_t ShardOf(uint64_t id) const { return gr::ShardOf(id, static_cast<uint32_t>(stubs_.size())); }

  static grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* ctx, const std::string& why) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish({grpc::StatusCode::UNIMPLEMENTED, why});
    return reactor;
  }

  // The request to one shard; its answer and status are the front's.
  template <typename Request, typename Response, typename Call>
  grpc::ServerUnaryReactor* Route(grpc::CallbackServerContext* ctx, const Request* req, Response* resp,
                                  uint32_t shard, Call call) {
    auto* reactor = ctx->DefaultReactor();
    std::shared_ptr<grpc::ClientContext> context = ShardContext(*ctx);
    call(stubs_[shard]->async(), context.get(), req, resp,
         [reactor, context, shard](const grpc::Status& status) { reactor->Finish(NamedByShard(status, shard)); });
    return reactor;
  }

  // The request to every shard at once; their top-k lists merged.
  template <typename Request, typename Call>
  grpc::ServerUnaryReactor* FanOut(grpc::CallbackServerContext* ctx, const Request* req, pb::RecallResponse* resp,
                                   uint32_t k, Call call) {
    auto* reactor = ctx->DefaultReactor();
    Gather(*ctx, std::vector<const Request*>(stubs_.size(), req), call,
           [reactor, resp, k](const std::vector<pb::RecallResponse>& answers,
                              const std::vector<grpc::Status>& statuses) {
             if (const grpc::Status failed = FirstFailure(statuses, 0, statuses.size()); !failed.ok())
               return reactor->Finish(failed);
             MergeTopK(answers, k, resp);
             reactor->Finish(grpc::Status::OK);
           });
    return reactor;
  }

  // MIXED recall as one server answers it: the shards' embedding lists
  // merged, fused by reciprocal rank with the walks of the account's shard
  // (walks alone for an account without a vector).
  template <typename Request, typename Call>
  grpc::ServerUnaryReactor* Mixed(grpc::CallbackServerContext* ctx, const Request* req, pb::RecallResponse* resp,
                                  Call call) {
    auto* reactor = ctx->DefaultReactor();
    auto embedding = std::make_shared<Request>(*req), walks = std::make_shared<Request>(*req);
    embedding->set_source(pb::RECALL_SOURCE_EMBEDDING);
    walks->set_source(pb::RECALL_SOURCE_WALKS);
    std::vector<const Request*> requests(stubs_.size(), embedding.get());
    requests.push_back(walks.get());  // last: to the account's shard
    const uint32_t k = req->k(), walk_shard = ShardOf(req->user_id());
    Gather(*ctx, requests, call,
           [reactor, resp, k, walk_shard, embedding, walks](const std::vector<pb::RecallResponse>& answers,
                                                            const std::vector<grpc::Status>& statuses) {
             const size_t shards = answers.size() - 1;
             if (!statuses[shards].ok()) return reactor->Finish(NamedByShard(statuses[shards], walk_shard));
             std::vector<std::vector<recall::RecallResult>> lists{ResultsOf(answers[shards])};
             bool without_vector = true;
             for (size_t s = 0; s < shards; ++s)
               without_vector &= statuses[s].error_code() == grpc::StatusCode::NOT_FOUND;
             if (!without_vector) {
               if (const grpc::Status failed = FirstFailure(statuses, 0, shards); !failed.ok())
                 return reactor->Finish(failed);
               pb::RecallResponse merged;
               MergeTopK({answers.begin(), answers.begin() + static_cast<std::ptrdiff_t>(shards)}, k, &merged);
               lists.push_back(ResultsOf(merged));
             }
             for (const recall::RecallResult& r : recall::FuseByReciprocalRank(lists, k)) {
               resp->add_ids(r.id);
               resp->add_scores(r.score);
             }
             resp->set_version(answers[shards].version());
             reactor->Finish(grpc::Status::OK);
           });
    return reactor;
  }

  static std::vector<recall::RecallResult> ResultsOf(const pb::RecallResponse& answer) {
    std::vector<recall::RecallResult> results;
    for (int i = 0; i < answer.ids_size(); ++i) results.push_back({answer.ids(i), answer.scores(i)});
    return results;
  }

  // A shard's failure as the front reports it: same code, "shard K: " first.
  static grpc::Status NamedByShard(const grpc::Status& status, size_t shard) {
    if (status.ok()) return status;
    return {status.error_code(), "shard " + std::to_string(shard) + ": " + status.error_message()};
  }

  // The first failed status among [begin, end), named by its shard; OK if none.
  static grpc::Status FirstFailure(const std::vector<grpc::Status>& statuses, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i)
      if (!statuses[i].ok()) return NamedByShard(statuses[i], i);
    return grpc::Status::OK;
  }

  // Sends requests[s] to shard s for s < shards, and a last extra request
  // (if any) to the shard of the request's user; `done` gets every answer
  // and status once the last call completed.
  template <typename Request, typename Call, typename Done>
  void Gather(const grpc::CallbackServerContext& ctx, const std::vector<const Request*>& requests, Call call,
              Done done) {
    struct State {
      explicit State(Done d) : done(std::move(d)) {}
      std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
      std::vector<pb::RecallResponse> answers;
      std::vector<grpc::Status> statuses;
      std::atomic<size_t> left;
      Done done;
    };
    const size_t calls = requests.size();
    auto state = std::make_shared<State>(std::move(done));
    state->answers.resize(calls);
    state->statuses.resize(calls);
    state->left = calls;
    for (size_t i = 0; i < calls; ++i) state->contexts.push_back(ShardContext(ctx));
    for (size_t i = 0; i < calls; ++i) {
      const size_t shard = i < stubs_.size() ? i : ShardOf(UserOf(*requests[i]));
      call(stubs_[shard]->async(), state->contexts[i].get(), requests[i], &state->answers[i],
           [state, i](grpc::Status status) {
             state->statuses[i] = std::move(status);
             if (state->left.fetch_sub(1) == 1) state->done(state->answers, state->statuses);
           });
    }
  }

  std::vector<std::unique_ptr<Stub>> stubs_;
  std::unique_ptr<Stub> event_writer_;  // null: shard 0
};

}  // namespace

void FrontOptions::Validate() const {
  CheckListenAddress(address);
  GR_CHECK(!shards.empty(), "the front needs at least one shard (--shards)");
  GR_CHECK(shards.size() <= 4096, shards.size(), " shards; at most 4096");
  for (const std::string& shard : shards) ShardTarget(shard);
  GR_CHECK(event_writer.empty() || event_writer.find_first_of("|,") == std::string::npos, "event_writer '",
           event_writer, "' must be one server (the one that writes the event log), not a list");
  GR_CHECK(max_message_bytes >= 1024, "max_message_bytes must be >= 1024");
}

std::string ShardTarget(const std::string& shard) {
  GR_CHECK(!shard.empty(), "a shard address is empty");
  if (shard.find('|') == std::string::npos) return shard;
  std::string replicas;
  bool ipv6 = false;
  size_t start = 0;
  for (size_t i = 0; start <= shard.size(); ++i) {
    const size_t end = std::min(shard.find('|', start), shard.size());
    const std::string replica = shard.substr(start, end - start);
    GR_CHECK(IsAddressWithPort(replica) && replica.find('/') == std::string::npos, "replica '", replica, "' of shard '",
             shard, "' is not an IP address with a port (replicas joined with '|' must be IP literals; use a "
             "dns:///name:port target for a name)");
    if (i == 0) ipv6 = replica.front() == '[';
    GR_CHECK((replica.front() == '[') == ipv6, "shard '", shard, "' mixes IPv4 and IPv6 replicas");
    replicas += (replicas.empty() ? "" : ",") + replica;
    start = end + 1;
  }
  return (ipv6 ? "ipv6:" : "ipv4:") + replicas;
}

struct FrontServer::Impl {
  explicit Impl(const FrontOptions& o) : options(o), service(options) {}
  FrontOptions options;
  FrontService service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::once_flag shutdown;
};

FrontServer::FrontServer(const FrontOptions& options) {
  options.Validate();
  impl_ = std::make_unique<Impl>(options);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(), &impl_->port);
  builder.RegisterService(&impl_->service);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  impl_->server = builder.BuildAndStart();
  GR_CHECK_CODE(impl_->server != nullptr && impl_->port > 0, ErrorCode::kIo, "cannot listen on ", options.address);
  spdlog::info("front listening on port {}, {} shards", impl_->port, options.shards.size());
}

FrontServer::~FrontServer() { Shutdown(); }

int FrontServer::port() const { return impl_->port; }

void FrontServer::Wait() { impl_->server->Wait(); }

void FrontServer::Shutdown() {
  std::call_once(impl_->shutdown, [this] {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  });
}

}  // namespace gr::service
