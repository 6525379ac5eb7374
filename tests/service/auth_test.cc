// Bearer tokens: the token file's checks, and a server that refuses what a
// token does not allow.
#include "service/auth.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

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

namespace gr::service {
namespace {

// A self-signed certificate for localhost / 127.0.0.1 made with the openssl
// command, as name-cert.pem and name-key.pem; false if openssl is missing.
bool MakeCertificate(const std::string& name) {
  const std::string base = ::gr::testing::TempPath(name);
  return std::system(StrCat("openssl req -x509 -newkey rsa:2048 -nodes -keyout ", base, "-key.pem -out ", base,
                            "-cert.pem -days 2 -subj /CN=localhost -addext "
                            "'subjectAltName=DNS:localhost,IP:127.0.0.1' >/dev/null 2>&1")
                         .c_str()) == 0;
}

std::string Pem(const std::string& path) { return ::gr::testing::ReadBytes(path); }

class TlsServerTest : public ServiceTest {
 protected:
  void SetUp() override {
    if (!MakeCertificate("server") || !MakeCertificate("client")) GTEST_SKIP() << "no openssl command";
  }
  void Start(bool mutual) {
    ServerOptions options;
    options.address = "127.0.0.1:0";
    options.artifacts = *root_ + "/artifacts";
    options.stats_log_seconds = 0;
    options.listener_check_ms = 200;
    options.tls_cert = ::gr::testing::TempPath("server-cert.pem");
    options.tls_key = ::gr::testing::TempPath("server-key.pem");
    if (mutual) options.tls_client_ca = ::gr::testing::TempPath("client-cert.pem");
    server_ = std::make_unique<Server>(options);
  }
  bool Answers(std::shared_ptr<grpc::ChannelCredentials> credentials) {
    auto stub = pb::Graphrec::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), std::move(credentials)));
    pb::ModelInfoResponse info;
    auto context = Context();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    return stub->ModelInfo(context.get(), {}, &info).ok();
  }
  grpc::SslCredentialsOptions ServerCa() {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Pem(::gr::testing::TempPath("server-cert.pem"));
    return ssl;
  }
};

TEST_F(TlsServerTest, OnlyTlsClientsThatTrustTheServerGetAnswersAndTheWatchdogStaysQuiet) {
  Start(/*mutual=*/false);
  EXPECT_FALSE(Answers(grpc::InsecureChannelCredentials()));
  EXPECT_TRUE(Answers(grpc::SslCredentials(ServerCa())));
  grpc::SslCredentialsOptions wrong_ca;
  wrong_ca.pem_root_certs = Pem(::gr::testing::TempPath("client-cert.pem"));
  EXPECT_FALSE(Answers(grpc::SslCredentials(wrong_ca)));
  // The watchdog's probe speaks TLS: a healthy server is never rebuilt.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(server_->listener_restarts(), 0);
  EXPECT_TRUE(Answers(grpc::SslCredentials(ServerCa())));
}

TEST_F(TlsServerTest, MutualTlsNeedsAClientCertificateFromTheClientCa) {
  Start(/*mutual=*/true);
  EXPECT_FALSE(Answers(grpc::SslCredentials(ServerCa())));
  grpc::SslCredentialsOptions with_certificate = ServerCa();
  with_certificate.pem_cert_chain = Pem(::gr::testing::TempPath("client-cert.pem"));
  with_certificate.pem_private_key = Pem(::gr::testing::TempPath("client-key.pem"));
  EXPECT_TRUE(Answers(grpc::SslCredentials(with_certificate)));
  grpc::SslCredentialsOptions other_certificate = ServerCa();
  other_certificate.pem_cert_chain = Pem(::gr::testing::TempPath("server-cert.pem"));
  other_certificate.pem_private_key = Pem(::gr::testing::TempPath("server-key.pem"));
  EXPECT_FALSE(Answers(grpc::SslCredentials(other_certificate)));
}

TEST(TlsOptionsTest, HalfConfiguredOrNonPemTlsIsRefusedAtStart) {
  ServerOptions options;
  options.artifacts = "/nonexistent";
  options.tls_cert = ::gr::testing::WriteTextFile("not-pem.txt", "hello\n");
  EXPECT_NE(::gr::testing::ErrorOf([&] { options.Validate(); }).find("both --tls-cert and --tls-key"), std::string::npos);
  options.tls_key = options.tls_cert;
  EXPECT_NE(::gr::testing::ErrorOf([&] { options.Validate(); }).find("is not PEM"), std::string::npos);
  options.tls_cert.clear();
  options.tls_key.clear();
  options.tls_client_ca = ::gr::testing::WriteTextFile("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  EXPECT_NE(::gr::testing::ErrorOf([&] { options.Validate(); }).find("--tls-client-ca needs"), std::string::npos);
}

}  // namespace
}  // namespace gr::service
