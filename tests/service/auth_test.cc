// Bearer tokens: the token file's checks, and a server that refuses what a
// token does not allow.
#include "service/auth.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "tests/service/service_fixture.h"
#include "tests/test_util.h"

namespace gr::service {
namespace {

namespace pb = ::graphrec::v1;
using ::gr::testing::ErrorOf;
using ::gr::testing::WriteTextFile;

constexpr const char* kReader = "reader-token-0123456789";
constexpr const char* kWriter = "writer-token-0123456789";

TEST(TokenTableTest, ScopesOfKnownTokensOnly) {
  const TokenTable table = TokenTable::Load(WriteTextFile(
      "tokens", StrCat("# who may do what\n", kReader, " read\n\n", kWriter, "   read,write\n")));
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.ScopesOf(StrCat("Bearer ", kReader)), kScopeRead);
  EXPECT_EQ(table.ScopesOf(StrCat("Bearer ", kWriter)), kScopeRead | kScopeWrite);
  EXPECT_EQ(table.ScopesOf(kWriter), 0);  // no "Bearer "
  EXPECT_EQ(table.ScopesOf("Bearer reader-token-012345678"), 0);
  EXPECT_EQ(table.ScopesOf(""), 0);
}

TEST(TokenTableTest, BadFilesNameTheLine) {
  const std::string bad_scope = WriteTextFile("t1", StrCat(kReader, " read\n", kWriter, " admin\n"));
  EXPECT_NE(ErrorOf([&] { TokenTable::Load(bad_scope); }).find(bad_scope + ":2: unknown scope 'admin'"), std::string::npos);
  const std::string short_token = WriteTextFile("t2", "abc read\n");
  EXPECT_NE(ErrorOf([&] { TokenTable::Load(short_token); }).find(":1: a token must be 16 to 512"), std::string::npos);
  const std::string empty = WriteTextFile("t3", "# nobody\n");
  EXPECT_NE(ErrorOf([&] { TokenTable::Load(empty); }).find("no tokens"), std::string::npos);
  EXPECT_NE(ErrorOf([&] { TokenTable::Load(WriteTextFile("t4", StrCat(kReader, "\n"))); }).find("expected 'TOKEN SCOPES'"),
            std::string::npos);
}

class AuthServerTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.address = "127.0.0.1:0";
    options.artifacts = *root_ + "/artifacts";
    options.stats_log_seconds = 0;
    options.auth_tokens = WriteTextFile("server-tokens", StrCat(kReader, " read\n", kWriter, " read,write\n"));
    server_ = std::make_unique<Server>(options);
    stub_ = pb::Graphrec::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }
  std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    auto context = Context();
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
    return context;
  }
};

TEST_F(AuthServerTest, EachRpcNeedsItsScope) {
  pb::ModelInfoResponse info;
  EXPECT_EQ(stub_->ModelInfo(As("").get(), {}, &info).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(stub_->ModelInfo(As("not-a-known-token-at-all").get(), {}, &info).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(stub_->ModelInfo(As(kReader).get(), {}, &info).ok());
  pb::PushEventsRequest push;
  auto* e = push.add_events();
  e->set_kind(pb::EVENT_ACCOUNT);
  e->set_actor(123456789);
  pb::PushEventsResponse pushed;
  const grpc::Status denied = stub_->PushEvents(As(kReader).get(), push, &pushed);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(denied.error_message().find("may not write"), std::string::npos);
  EXPECT_TRUE(stub_->PushEvents(As(kWriter).get(), push, &pushed).ok());
  pb::RecallPostsRequest recall;
  recall.set_user_id(built_->g.accounts.ToExternal(0));
  recall.set_k(5);
  pb::RecallResponse answer;
  EXPECT_EQ(stub_->RecallPosts(As("").get(), recall, &answer).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(stub_->RecallPosts(As(kWriter).get(), recall, &answer).ok());
}

}  // namespace
}  // namespace gr::service
