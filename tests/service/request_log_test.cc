#include "service/request_log.h"

#include <grpcpp/support/status.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

namespace gr::service {
namespace {

TEST(RequestLogTest, AFailedRequestIsOneLineWithMethodStatusAndReason) {
  EXPECT_EQ(FailedRequestLine("SimilarAccounts", 5, "account 1 is not in the graph"),
            "SimilarAccounts failed: NOT_FOUND: account 1 is not in the graph");
  EXPECT_EQ(FailedRequestLine("Rank", 13, "broke\nbadly"), "Rank failed: INTERNAL: broke\\x0abadly");
  EXPECT_LE(FailedRequestLine("Rank", 13, std::string(10000, 'x')).size(), 400u);  // a long reason is cut
  EXPECT_TRUE(IsClientMistake(static_cast<int>(grpc::StatusCode::NOT_FOUND)));
  EXPECT_TRUE(IsClientMistake(static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT)));
  EXPECT_FALSE(IsClientMistake(static_cast<int>(grpc::StatusCode::INTERNAL)));
  EXPECT_FALSE(IsClientMistake(static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED)));
}

TEST(RequestLogTest, AtMostTheQuotaIsLoggedASecond) {
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::off);  // the lines themselves are not the point here
  // Start on a fresh second: other tests of this process may have used part
  // of this one's quota.
  const auto into_second = std::chrono::steady_clock::now().time_since_epoch() % std::chrono::seconds(1);
  std::this_thread::sleep_for(std::chrono::seconds(1) - into_second + std::chrono::milliseconds(5));
  uint64_t logged = 0;
  for (int i = 0; i < 100; ++i) logged += LogFailedRequest("SimilarAccounts", 5, "x");
  spdlog::set_level(level);
  EXPECT_GE(logged, kFailedRequestLinesPerSecond);
  EXPECT_LE(logged, 2 * kFailedRequestLinesPerSecond);  // should the loop cross a second boundary after all
}

}  // namespace
}  // namespace gr::service
