// Load generator for graphrec serve: keeps CONCURRENCY SimilarAccounts
// requests in flight (gRPC async client, one completion queue) for SECONDS,
// with account ids drawn from IDS_FILE, and prints one JSON line: QPS,
// latency percentiles, errors.
//   load_gen ADDRESS IDS_FILE CONCURRENCY SECONDS [K]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/rng.h"
#include "proto/graphrec.grpc.pb.h"

namespace {

namespace pb = ::graphrec::v1;
using Clock = std::chrono::steady_clock;

struct Call {
  grpc::ClientContext context;
  pb::RecallResponse response;
  grpc::Status status;
  Clock::time_point start;
  std::unique_ptr<grpc::ClientAsyncResponseReader<pb::RecallResponse>> reader;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: load_gen ADDRESS IDS_FILE CONCURRENCY SECONDS [K]\n");
    return 2;
  }
  const std::string address = argv[1];
  std::vector<uint64_t> ids;
  std::ifstream in(argv[2]);
  for (uint64_t id; in >> id;) ids.push_back(id);
  if (ids.empty()) {
    std::fprintf(stderr, "load_gen: no ids in %s\n", argv[2]);
    return 2;
  }
  const int concurrency = std::stoi(argv[3]);
  const double seconds = std::stod(argv[4]);
  const uint32_t k = argc > 5 ? static_cast<uint32_t>(std::stoul(argv[5])) : 10;

  grpc::ChannelArguments channel_args;
  channel_args.SetInt(GRPC_ARG_MAX_CONCURRENT_STREAMS, 1000);
  auto stub = pb::Graphrec::NewStub(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), channel_args));
  grpc::CompletionQueue queue;
  gr::Rng rng(1);
  auto issue = [&] {
    auto* call = new Call;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    pb::SimilarAccountsRequest request;
    request.set_account_id(ids[rng.Uniform(ids.size())]);
    request.set_k(k);
    call->start = Clock::now();
    call->reader = stub->AsyncSimilarAccounts(&call->context, request, &queue);
    call->reader->Finish(&call->response, &call->status, call);
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
    std::unique_ptr<Call> call(static_cast<Call*>(tag));
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
                        {"p50_ms", pct(0.5)}, {"p99_ms", pct(0.99)}, {"p999_ms", pct(0.999)}, {"k", k}};
  if (errors > 0) out["first_error"] = first_error;
  std::printf("%s\n", out.dump().c_str());
  queue.Shutdown();
  return errors > 0 ? 1 : 0;
}
