// Event -> refreshed vector and event -> index latency of graphrec serve's
// refresher (serve --refresh-seconds). ROUNDS times, spread over SECONDS,
// an existing account follows another existing account, which publishes a
// new post (one PushEvents request). Meanwhile every 20 ms the pending
// rounds are polled: the follower's GetEmbeddings vector until it differs
// from the one before the push ("vector"), and the new post's vector until
// the posts index holds it ("post in the index": GetEmbeddings of a post
// reads the index, which the pass updates before it publishes the
// refreshed account vectors). Prints one JSON line with p50 / p99 / max of
// each, from the push's start.
//   refresh_latency ADDRESS IDS_FILE [ROUNDS] [SECONDS]
// IDS_FILE: existing account ids, one per line (2 x ROUNDS of them are used,
// in order: follower, followee, follower, ...).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "proto/graphrec.grpc.pb.h"

namespace pb = ::graphrec::v1;
using Clock = std::chrono::steady_clock;

namespace {

struct Round {
  uint64_t follower = 0, author = 0, post = 0;
  std::vector<float> before;
  Clock::time_point start;
  double vector_ms = -1, post_ms = -1;
};

std::vector<float> VectorOf(pb::Graphrec::Stub& stub, uint64_t id, pb::EmbeddingKind kind, bool* found) {
  pb::GetEmbeddingsRequest request;
  request.add_ids(id);
  request.set_kind(kind);
  pb::GetEmbeddingsResponse response;
  grpc::ClientContext context;
  *found = stub.GetEmbeddings(&context, request, &response).ok();
  if (!*found) return {};
  return {response.embeddings(0).values().begin(), response.embeddings(0).values().end()};
}

nlohmann::json Percentiles(std::vector<double> ms) {
  if (ms.empty()) return nullptr;
  std::sort(ms.begin(), ms.end());
  const auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))]; };
  return {{"p50_ms", at(0.5)}, {"p99_ms", at(0.99)}, {"max_ms", ms.back()}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: refresh_latency ADDRESS IDS_FILE [ROUNDS] [SECONDS]\n");
    return 2;
  }
  const int rounds = argc > 3 ? std::stoi(argv[3]) : 100;
  const double seconds = argc > 4 ? std::stod(argv[4]) : 60;
  std::vector<uint64_t> ids;
  std::ifstream in(argv[2]);
  for (uint64_t id; in >> id;) ids.push_back(id);
  if (ids.size() < 2 * static_cast<size_t>(rounds)) {
    std::fprintf(stderr, "refresh_latency: %zu ids, %d rounds need %d\n", ids.size(), rounds, 2 * rounds);
    return 2;
  }
  auto stub = pb::Graphrec::NewStub(grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials()));
  std::vector<Round> all(static_cast<size_t>(rounds));
  const auto begin = Clock::now();
  const auto timeout = std::chrono::seconds(static_cast<int>(seconds) + 120);
  size_t pushed = 0, done = 0;
  while (done < all.size() && Clock::now() - begin < timeout) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
    while (pushed < all.size() && elapsed >= seconds * static_cast<double>(pushed) / rounds) {
      Round& r = all[pushed];
      r.follower = ids[2 * pushed];
      r.author = ids[2 * pushed + 1];
      r.post = 970000000000ULL + pushed;
      bool found = false;
      r.before = VectorOf(*stub, r.follower, pb::ACCOUNT_INPUT, &found);
      pb::PushEventsRequest request;
      auto* follow = request.add_events();
      follow->set_kind(pb::EVENT_FOLLOW);
      follow->set_actor(r.follower);
      follow->set_object(r.author);
      auto* post = request.add_events();
      post->set_kind(pb::EVENT_POST);
      post->set_actor(r.author);
      post->set_object(r.post);
      const uint32_t now = static_cast<uint32_t>(std::time(nullptr));
      follow->set_time_unix_s(now);
      post->set_time_unix_s(now);
      r.start = Clock::now();
      pb::PushEventsResponse response;
      grpc::ClientContext context;
      if (!stub->PushEvents(&context, request, &response).ok()) {
        std::fprintf(stderr, "refresh_latency: push failed\n");
        return 1;
      }
      ++pushed;
    }
    for (size_t i = 0; i < pushed; ++i) {
      Round& r = all[i];
      if (r.vector_ms >= 0 && r.post_ms >= 0) continue;
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - r.start).count();
      bool found = false;
      if (r.vector_ms < 0 && VectorOf(*stub, r.follower, pb::ACCOUNT_INPUT, &found) != r.before && found) r.vector_ms = ms;
      if (r.post_ms < 0) {
        VectorOf(*stub, r.post, pb::POST, &found);
        if (found) r.post_ms = ms;
      }
      if (r.vector_ms >= 0 && r.post_ms >= 0) ++done;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::vector<double> vector_ms, post_ms;
  for (const Round& r : all) {
    if (r.vector_ms >= 0) vector_ms.push_back(r.vector_ms);
    if (r.post_ms >= 0) post_ms.push_back(r.post_ms);
  }
  std::printf("%s\n", nlohmann::json({{"rounds", rounds},
                                      {"seconds", seconds},
                                      {"vector_changed", Percentiles(vector_ms)},
                                      {"post_in_index", Percentiles(post_ms)},
                                      {"vector_not_changed", all.size() - vector_ms.size()},
                                      {"post_not_indexed", all.size() - post_ms.size()}})
                          .dump()
                          .c_str());
  return vector_ms.size() == all.size() && post_ms.size() == all.size() ? 0 : 1;
}
