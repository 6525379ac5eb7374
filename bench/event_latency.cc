// Event -> answer latency for graphrec serve: ROUNDS times, an author
// publishes a new post and a new account follows that author (one
// PushEvents request each), then RecallPosts with source WALKS is asked for
// the new account until the post is in the answer (or 5 s pass). Prints one
// JSON line: p50 / p99 / max of push-start to answer-with-the-post.
// Accounts and posts are new ids from 950000000000 + FIRST (and 960000000000
// + FIRST) on: give runs against one server distinct FIRSTs.
//   event_latency ADDRESS AUTHOR_ID [ROUNDS] [FIRST]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "proto/graphrec.grpc.pb.h"

namespace pb = ::graphrec::v1;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: event_latency ADDRESS AUTHOR_ID [ROUNDS] [FIRST]\n");
    return 2;
  }
  const uint64_t author = std::stoull(argv[2]);
  const int rounds = argc > 3 ? std::stoi(argv[3]) : 200;
  const uint64_t first = argc > 4 ? std::stoull(argv[4]) : 0;
  auto stub = pb::Graphrec::NewStub(grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials()));
  std::vector<double> latencies_ms;
  int missing = 0;
  for (int i = 0; i < rounds; ++i) {
    const uint64_t account = 950000000000ULL + first + static_cast<uint64_t>(i),
                   post = 960000000000ULL + first + static_cast<uint64_t>(i);
    const auto start = Clock::now();
    pb::PushEventsRequest request;
    auto* published = request.add_events();
    published->set_kind(pb::EVENT_POST);
    published->set_actor(author);
    published->set_object(post);
    published->set_time_unix_s(2000000000u + static_cast<uint32_t>(i));
    auto* follow = request.add_events();
    follow->set_kind(pb::EVENT_FOLLOW);
    follow->set_actor(account);
    follow->set_object(author);
    follow->set_time_unix_s(2000000000u + static_cast<uint32_t>(i));
    pb::PushEventsResponse pushed;
    grpc::ClientContext push_context;
    if (!stub->PushEvents(&push_context, request, &pushed).ok()) {
      std::fprintf(stderr, "event_latency: push failed\n");
      return 1;
    }
    bool seen = false;
    while (!seen && Clock::now() - start < std::chrono::seconds(5)) {
      pb::RecallPostsRequest query;
      query.set_user_id(account);
      query.set_k(50);
      query.set_source(pb::RECALL_SOURCE_WALKS);
      pb::RecallResponse answer;
      grpc::ClientContext context;
      if (stub->RecallPosts(&context, query, &answer).ok())
        seen = std::find(answer.ids().begin(), answer.ids().end(), post) != answer.ids().end();
    }
    if (!seen) ++missing;
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto at = [&](double q) {
    const auto index = static_cast<size_t>(q * static_cast<double>(latencies_ms.size()));
    return latencies_ms[std::min(latencies_ms.size() - 1, index)];
  };
  std::printf("%s\n", nlohmann::json({{"rounds", rounds}, {"not_visible_within_5s", missing}, {"p50_ms", at(0.5)},
                                      {"p99_ms", at(0.99)}, {"max_ms", latencies_ms.back()}})
                          .dump()
                          .c_str());
  return missing == 0 ? 0 : 1;
}
