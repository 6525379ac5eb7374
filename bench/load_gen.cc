// Load generator for graphrec serve: keeps CONCURRENCY requests of one
// method in flight (gRPC async client, one completion queue) for SECONDS,
// with account ids drawn from IDS_FILE, and prints one JSON line: QPS,
// latency percentiles, errors.
//   load_gen ADDRESS IDS_FILE CONCURRENCY SECONDS [K [METHOD [POSTS_FILE]]]
// METHOD: similar (SimilarAccounts, default), authors (RecallAuthors),
// posts (RecallPosts), each asking for K results (walk-authors, walk-posts,
// mixed-posts: the same with source WALKS or MIXED); rank (Rank): K candidate
// posts per request, drawn from the first column of POSTS_FILE (header
// allowed), e.g. the world's posts.tsv.
#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/rng.h"
#include "proto/graphrec.grpc.pb.h"

namespace {

namespace pb = ::graphrec::v1;
using Clock = std::chrono::steady_clock;

struct CallBase {
  virtual ~CallBase() = default;
  grpc::ClientContext context;
  grpc::Status status;
  Clock::time_point start;
};

template <typename Response>
struct Call final : CallBase {
  Response response;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
};

// The response type a ClientAsyncResponseReader delivers.
template <typename Reader>
struct ReaderResponse;
template <typename Response>
struct ReaderResponse<grpc::ClientAsyncResponseReader<Response>> {
  using type = Response;
};

// The first column of each line that starts with a digit.
std::vector<uint64_t> ReadIds(const std::string& path) {
  std::vector<uint64_t> ids;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] >= '0' && line[0] <= '9') ids.push_back(std::stoull(line));
  }
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: load_gen ADDRESS IDS_FILE CONCURRENCY SECONDS [K [METHOD [POSTS_FILE]]]\n");
    return 2;
  }
  const std::string address = argv[1];
  const std::vector<uint64_t> ids = ReadIds(argv[2]);
  if (ids.empty()) {
    std::fprintf(stderr, "load_gen: no ids in %s\n", argv[2]);
    return 2;
  }
  const int concurrency = std::stoi(argv[3]);
  const double seconds = std::stod(argv[4]);
  const uint32_t k = argc > 5 ? static_cast<uint32_t>(std::stoul(argv[5])) : 10;
  const std::string method = argc > 6 ? argv[6] : "similar";
  const std::vector<std::string> methods = {"similar", "authors", "posts", "walk-authors", "walk-posts", "mixed-posts", "rank"};
  if (std::find(methods.begin(), methods.end(), method) == methods.end()) {
    std::fprintf(stderr, "load_gen: unknown method %s (similar, authors, posts, walk-authors, walk-posts, mixed-posts, rank)\n",
                 method.c_str());
    return 2;
  }
  const pb::RecallSource source = method.starts_with("walk-")    ? pb::RECALL_SOURCE_WALKS
                                  : method.starts_with("mixed-") ? pb::RECALL_SOURCE_MIXED
                                                                 : pb::RECALL_SOURCE_EMBEDDING;
  std::vector<uint64_t> posts;
  if (method == "rank") {
    posts = argc > 7 ? ReadIds(argv[7]) : std::vector<uint64_t>{};
    if (posts.empty()) {
      std::fprintf(stderr, "load_gen: rank needs a POSTS_FILE with post ids\n");
      return 2;
    }
  }

  // The load generator shares the machine's cores with the server, so its
  // own gRPC overhead is kept down: no Abseil lock-order bookkeeping
  // (Debian's Abseil keeps deadlock detection on, as in the server) and no
  // retry filter (it copies each call's messages in case of a retry; a
  // benchmark must not retry anyway).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  grpc::ChannelArguments channel_args;
  channel_args.SetInt(GRPC_ARG_MAX_CONCURRENT_STREAMS, 1000);
  channel_args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  auto stub = pb::Graphrec::NewStub(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), channel_args));
  grpc::CompletionQueue queue;
  gr::Rng rng(1);
  // Starts one call: `start` is the stub's async method for the request.
  auto send = [&](auto& request, auto start) {
    using Reader = std::remove_pointer_t<decltype(start(nullptr, request).get())>;
    using Response = typename ReaderResponse<Reader>::type;
    auto* call = new Call<Response>;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    call->start = Clock::now();
    call->reader = start(&call->context, request);
    call->reader->Finish(&call->response, &call->status, static_cast<CallBase*>(call));
  };
  auto issue = [&] {
    const uint64_t user = ids[rng.Uniform(ids.size())];
    if (method == "similar") {
      pb::SimilarAccountsRequest request;
      request.set_account_id(user);
      request.set_k(k);
      send(request, [&](grpc::ClientContext* c, const pb::SimilarAccountsRequest& r) {
        return stub->AsyncSimilarAccounts(c, r, &queue);
      });
    } else if (method.ends_with("authors")) {
      pb::RecallAuthorsRequest request;
      request.set_user_id(user);
      request.set_k(k);
      request.set_source(source);
      send(request, [&](grpc::ClientContext* c, const pb::RecallAuthorsRequest& r) {
        return stub->AsyncRecallAuthors(c, r, &queue);
      });
    } else if (method.ends_with("posts")) {
      pb::RecallPostsRequest request;
      request.set_user_id(user);
      request.set_k(k);
      request.set_source(source);
      send(request, [&](grpc::ClientContext* c, const pb::RecallPostsRequest& r) {
        return stub->AsyncRecallPosts(c, r, &queue);
      });
    } else {
      pb::RankRequest request;
      request.set_user_id(user);
      for (uint32_t i = 0; i < k; ++i) request.add_post_ids(posts[rng.Uniform(posts.size())]);
      send(request, [&](grpc::ClientContext* c, const pb::RankRequest& r) { return stub->AsyncRank(c, r, &queue); });
    }
  };
  const auto begin = Clock::now();
  const auto end = begin + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
  for (int i = 0; i < concurrency; ++i) issue();
  std::vector<double> latencies_ms;
  uint64_t errors = 0, not_found = 0;  // ids absent from the graph are answers, not failures
  std::string first_error;
  int in_flight = concurrency;
  void* tag = nullptr;
  bool ok = false;
  while (in_flight > 0 && queue.Next(&tag, &ok)) {
    std::unique_ptr<CallBase> call(static_cast<CallBase*>(tag));
    const auto now = Clock::now();
    if (call->status.ok() || call->status.error_code() == grpc::StatusCode::NOT_FOUND) {
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - call->start).count());
      not_found += !call->status.ok();
    } else if (errors++ == 0) {
      first_error = call->status.error_message();
    }
    if (now < end) {
      issue();
    } else {
      --in_flight;
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    return latencies_ms.empty() ? 0.0 : latencies_ms[std::min(latencies_ms.size() - 1, static_cast<size_t>(p * static_cast<double>(latencies_ms.size())))];
  };
  nlohmann::json out = {{"concurrency", concurrency}, {"seconds", elapsed}, {"requests", latencies_ms.size()},
                        {"errors", errors}, {"not_found", not_found}, {"qps", static_cast<double>(latencies_ms.size()) / elapsed},
                        {"p50_ms", pct(0.5)}, {"p99_ms", pct(0.99)}, {"p999_ms", pct(0.999)}, {"k", k},
                        {"method", method}};
  if (errors > 0) out["first_error"] = first_error;
  std::printf("%s\n", out.dump().c_str());
  queue.Shutdown();
  return errors > 0 ? 1 : 0;
}
