#include "apps/rpc_client.h"

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace gr::apps {

namespace {

std::string ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  GR_CHECK_CODE(in.good(), ErrorCode::kIo, "cannot read the ", what, " ", path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

void AddClientOptions(CLI::App* cmd, ClientOptions& options) {
  cmd->add_option("--token", options.token, "bearer token for a server started with --auth-tokens")
      ->envname("GRAPHREC_TOKEN");
  cmd->add_option("--tls-ca", options.tls_ca, "connect with TLS, verifying the server against these PEM CAs")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-cert", options.tls_cert, "client certificate (PEM) for a server that requires one")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", options.tls_key, "client key (PEM)")->check(CLI::ExistingFile);
}

std::unique_ptr<graphrec::v1::Graphrec::Stub> ConnectTo(const std::string& address, const ClientOptions& options) {
  GR_CHECK(options.tls_cert.empty() == options.tls_key.empty(), "give both --tls-cert and --tls-key, or neither");
  GR_CHECK(options.tls_cert.empty() || !options.tls_ca.empty(), "--tls-cert needs --tls-ca");
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!options.tls_ca.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(options.tls_ca, "TLS CA");
    if (!options.tls_cert.empty()) {
      ssl.pem_cert_chain = ReadFile(options.tls_cert, "TLS certificate");
      ssl.pem_private_key = ReadFile(options.tls_key, "TLS key");
    }
    credentials = grpc::SslCredentials(ssl);
  }
  return graphrec::v1::Graphrec::NewStub(grpc::CreateChannel(address, credentials));
}

std::unique_ptr<grpc::ClientContext> ContextWithTimeout(double seconds, const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6)));
  return context;
}

void ThrowIfFailed(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return;
  const ErrorCode code = status.error_code() == grpc::StatusCode::NOT_FOUND         ? ErrorCode::kNotFound
                         : status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? ErrorCode::kInvalidArgument
                                                                                     : ErrorCode::kIo;
  GR_THROW(code, what, ": rpc failed with status ", static_cast<int>(status.error_code()), ": ",
           status.error_message());
}

}  // namespace gr::apps
