// The graphrec.v1.Graphrec rpcs. Every request is authorised (with a token
// table), checked against its deadline, answered from the live model
// (UNAVAILABLE until the server has loaded its first version), timed, and
// logged when it fails; no error escapes as an exception.
#pragma once

#include <string>
#include <vector>

#include "proto/graphrec.grpc.pb.h"
#include "recall/recall.h"
#include "service/latency.h"

namespace gr::service {

class LiveEvents;
class ModelSource;
class Refresher;
class TokenTable;
struct Model;
struct ServerOptions;

class GraphrecService final : public ::graphrec::v1::Graphrec::CallbackService {
 public:
  enum Method {
    kSimilarAccounts, kRecallAuthors, kRecallPosts, kGetEmbeddings, kRank, kModelInfo, kStats, kPushEvents, kNumMethods
  };

  // `tokens` null: no authorization.
  GraphrecService(const ServerOptions& options, ModelSource& source, LiveEvents& live, const Refresher& refresher,
                  const TokenTable* tokens);

  grpc::ServerUnaryReactor* SimilarAccounts(grpc::CallbackServerContext* ctx,
                                            const ::graphrec::v1::SimilarAccountsRequest* req,
                                            ::graphrec::v1::RecallResponse* resp) override;
  grpc::ServerUnaryReactor* RecallAuthors(grpc::CallbackServerContext* ctx,
                                          const ::graphrec::v1::RecallAuthorsRequest* req,
                                          ::graphrec::v1::RecallResponse* resp) override;
  grpc::ServerUnaryReactor* RecallPosts(grpc::CallbackServerContext* ctx, const ::graphrec::v1::RecallPostsRequest* req,
                                        ::graphrec::v1::RecallResponse* resp) override;
  grpc::ServerUnaryReactor* GetEmbeddings(grpc::CallbackServerContext* ctx,
                                          const ::graphrec::v1::GetEmbeddingsRequest* req,
                                          ::graphrec::v1::GetEmbeddingsResponse* resp) override;
  grpc::ServerUnaryReactor* Rank(grpc::CallbackServerContext* ctx, const ::graphrec::v1::RankRequest* req,
                                 ::graphrec::v1::RankResponse* resp) override;
  grpc::ServerUnaryReactor* ModelInfo(grpc::CallbackServerContext* ctx, const ::graphrec::v1::ModelInfoRequest*,
                                      ::graphrec::v1::ModelInfoResponse* resp) override;
  grpc::ServerUnaryReactor* Stats(grpc::CallbackServerContext* ctx, const ::graphrec::v1::StatsRequest*,
                                  ::graphrec::v1::StatsResponse* resp) override;
  grpc::ServerUnaryReactor* PushEvents(grpc::CallbackServerContext* ctx, const ::graphrec::v1::PushEventsRequest* req,
                                       ::graphrec::v1::PushEventsResponse* resp) override;

  const RequestStats& requests() const { return stats_; }
  void LogStats() const;  // one info line per method with requests

 private:
  // Runs `handle` on the live model with deadline checks, maps errors to
  // status codes (never lets one escape), records the latency.
  template <typename Handler>
  grpc::ServerUnaryReactor* Serve(Method method, grpc::CallbackServerContext* ctx, Handler&& handle);

  // With a token table, the request's bearer token must grant the method's
  // scope: write for PushEvents, read for the rest.
  grpc::Status Authorize(Method method, const grpc::CallbackServerContext& ctx) const;

  // Similar accounts (source unused) or user -> authors / posts from `source`.
  grpc::Status Recall(const Model& m, recall::RecallKind kind, uint64_t id, uint32_t k, bool exclude,
                      ::graphrec::v1::RecallResponse* resp,
                      ::graphrec::v1::RecallSource source = ::graphrec::v1::RECALL_SOURCE_EMBEDDING) const;

  grpc::Status Embeddings(const Model& m, const ::graphrec::v1::GetEmbeddingsRequest& req,
                          ::graphrec::v1::GetEmbeddingsResponse* resp) const;

  const ServerOptions& options_;
  ModelSource& source_;
  LiveEvents& live_;
  const Refresher& refresher_;
  const TokenTable* tokens_;
  RequestStats stats_;
};

}  // namespace gr::service
