// The Prometheus endpoint of `graphrec serve` (service/metrics.h), scraped
// over a plain socket after known traffic.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "service/refresher.h"
#include "tests/service/service_fixture.h"
#include "tests/test_util.h"

namespace gr::service {
namespace {

// GET `path` from 127.0.0.1:port (HTTP/1.0: the server closes when done); the whole response.
std::string HttpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return "";
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return "";
  }
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) response.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  return response;
}

// The body of an HTTP response.
std::string Body(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// Sample lines of an exposition: "name{labels}" -> value.
std::map<std::string, double> Samples(const std::string& body) {
  std::map<std::string, double> samples;
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

class MetricsTest : public ServiceTest {
 protected:
  void SetUp() override {
    // A copy: events pushed here must not reach the other tests' servers.
    const std::string artifacts = ::gr::testing::TempPath("artifacts");
    std::filesystem::remove_all(artifacts);
    std::filesystem::copy(*root_ + "/artifacts", artifacts, std::filesystem::copy_options::recursive);
    ServerOptions options = BaseOptions();
    options.metrics_address = "127.0.0.1:0";
    options.artifacts = artifacts;
    Start(options);
  }
  grpc::StatusCode Similar(ExternalId id) {
    pb::SimilarAccountsRequest request;
    request.set_account_id(id);
    request.set_k(5);
    pb::RecallResponse response;
    return stub_->SimilarAccounts(Context().get(), request, &response).error_code();
  }
};

TEST_F(MetricsTest, CountersAndHistogramsFollowTheTraffic) {
  ASSERT_GT(server_->metrics_port(), 0);
  const ExternalId known = built_->g.accounts.ToExternal(0);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Similar(known), grpc::StatusCode::OK);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Similar(1), grpc::StatusCode::NOT_FOUND);

  const std::string response = HttpGet(server_->metrics_port(), "/metrics");
  ASSERT_TRUE(response.starts_with("HTTP/1.")) << response;
  EXPECT_NE(response.find(" 200 "), std::string::npos);
  EXPECT_NE(response.find("text/plain; version=0.0.4"), std::string::npos);
  const std::string body = Body(response);
  EXPECT_NE(body.find("# TYPE graphrec_request_duration_seconds histogram"), std::string::npos);
  const auto samples = Samples(body);
  auto value = [&](const std::string& key) {
    const auto it = samples.find(key);
    EXPECT_NE(it, samples.end()) << key << " missing in\n" << body;
    return it == samples.end() ? -1.0 : it->second;
  };
  EXPECT_EQ(value(R"(graphrec_requests_total{method="SimilarAccounts",code="OK"})"), 3);
  EXPECT_EQ(value(R"(graphrec_requests_total{method="SimilarAccounts",code="NOT_FOUND"})"), 2);
  EXPECT_EQ(samples.count(R"(graphrec_requests_total{method="Rank",code="OK"})"), 0u);  // no traffic, no line
  EXPECT_EQ(value(R"(graphrec_request_duration_seconds_count{method="SimilarAccounts"})"), 5);
  EXPECT_GT(value(R"(graphrec_request_duration_seconds_sum{method="SimilarAccounts"})"), 0);
  // Buckets are cumulative: never decreasing, ending at the count.
  double previous = 0;
  int buckets = 0;
  for (const auto& [key, v] : samples) {
    if (!key.starts_with(R"(graphrec_request_duration_seconds_bucket{method="SimilarAccounts",le=")")) continue;
    ++buckets;
    if (key.find("+Inf") != std::string::npos) continue;
    EXPECT_LE(v, 5) << key;
    EXPECT_GE(v, 0) << key;
  }
  EXPECT_EQ(buckets, 21);
  for (int k = 5; k <= 24; ++k) {  // in bound order
    char key[128];
    std::snprintf(key, sizeof key, R"(graphrec_request_duration_seconds_bucket{method="SimilarAccounts",le="%.9g"})",
                  std::exp2(k) * 1e-6);
    const double v = value(key);
    EXPECT_GE(v, previous) << key;
    previous = v;
  }
  EXPECT_EQ(previous, 5);  // every request answered within 16.8 s
  EXPECT_EQ(value(R"(graphrec_request_duration_seconds_bucket{method="SimilarAccounts",le="+Inf"})"), 5);
  EXPECT_EQ(value("graphrec_requests_in_flight"), 0);
  EXPECT_EQ(value(R"(graphrec_version_info{version="v1"})"), 1);
  EXPECT_GE(value("graphrec_version_age_seconds"), 0);
  EXPECT_EQ(value("graphrec_reloads_total"), 0);
  EXPECT_EQ(value("graphrec_events_logged_total"), 0);
  EXPECT_EQ(value(R"(graphrec_live_graph_changes_total{kind="follow"})"), 0);

  EXPECT_NE(HttpGet(server_->metrics_port(), "/nothing-here").find(" 404 "), std::string::npos);
}

TEST_F(MetricsTest, PushedEventsShowInTheLogAndLiveGraphFigures) {
  pb::PushEventsRequest push;
  auto* follow = push.add_events();
  follow->set_kind(pb::EVENT_FOLLOW);
  follow->set_actor(built_->g.accounts.ToExternal(0));
  follow->set_object(777000777);
  follow->set_time_unix_s(1767225600);
  pb::PushEventsResponse pushed;
  const double before = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  ASSERT_TRUE(stub_->PushEvents(Context().get(), push, &pushed).ok());
  const auto samples = Samples(Body(HttpGet(server_->metrics_port(), "/metrics")));
  EXPECT_EQ(samples.at("graphrec_events_logged_total"), 1);
  EXPECT_EQ(samples.at("graphrec_events_applied_total"), 1);
  EXPECT_EQ(samples.at("graphrec_event_apply_failures_total"), 0);
  EXPECT_EQ(samples.at("graphrec_event_newest_timestamp_seconds"), 1767225600);
  EXPECT_GE(samples.at("graphrec_event_last_push_timestamp_seconds"), std::floor(before));
  EXPECT_EQ(samples.at(R"(graphrec_live_graph_changes_total{kind="follow"})"), 1);
  EXPECT_EQ(samples.at(R"(graphrec_live_graph_changes_total{kind="new_account"})"), 1);
  EXPECT_GT(samples.at("graphrec_live_graph_delta_bytes"), 0);
  EXPECT_EQ(samples.at(R"(graphrec_requests_total{method="PushEvents",code="OK"})"), 1);
  EXPECT_EQ(samples.at("graphrec_refresh_passes_total"), 0);
  EXPECT_EQ(samples.count("graphrec_refresh_last_pass_timestamp_seconds"), 0u);
  // A refresh pass: the follower and the new account it followed.
  EXPECT_EQ(server_->RefreshNow().refreshed, 2u);
  const auto refreshed = Samples(Body(HttpGet(server_->metrics_port(), "/metrics")));
  EXPECT_EQ(refreshed.at("graphrec_refresh_passes_total"), 1);
  EXPECT_EQ(refreshed.at("graphrec_refreshed_accounts_total"), 2);
  EXPECT_GE(refreshed.at("graphrec_refresh_last_pass_timestamp_seconds"), std::floor(before));
}

TEST(MetricsOptionsTest, TheAddressIsChecked) {
  ServerOptions options;
  options.artifacts = "/x";
  for (const std::string bad : {"unix:/tmp/metrics.sock", "127.0.0.1", "127.0.0.1:70000"}) {
    options.metrics_address = bad;
    EXPECT_FALSE(::gr::testing::ErrorOf([&] { options.Validate(); }).empty()) << bad;
  }
  options.metrics_address = "127.0.0.1:0";
  EXPECT_NO_THROW(options.Validate());
}

}  // namespace
}  // namespace gr::service
