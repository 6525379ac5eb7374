#include "service/tls.h"

#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace gr::service {
namespace {

std::string ReadPem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  GR_CHECK_CODE(in.good(), ErrorCode::kIo, "cannot read the ", what, " ", path);
  std::ostringstream text;
  text << in.rdbuf();
  GR_CHECK(text.str().find("-----BEGIN ") != std::string::npos, what, " ", path, " is not PEM (no -----BEGIN line)");
  return text.str();
}

}  // namespace

void TlsFiles::Validate() const {
  GR_CHECK(cert.empty() == key.empty(), "give both --tls-cert and --tls-key, or neither");
  GR_CHECK(client_ca.empty() || !cert.empty(), "--tls-client-ca needs --tls-cert and --tls-key");
  if (!enabled()) return;
  ReadPem(cert, "TLS certificate");
  ReadPem(key, "TLS key");
  if (!client_ca.empty()) ReadPem(client_ca, "TLS client CA");
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(const TlsFiles& files) {
  if (!files.enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(files.client_ca.empty()
                                                ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                                : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_key_cert_pairs.push_back({ReadPem(files.key, "TLS key"), ReadPem(files.cert, "TLS certificate")});
  if (!files.client_ca.empty()) options.pem_root_certs = ReadPem(files.client_ca, "TLS client CA");
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> ProbeCredentialsFor(const TlsFiles& files) {
  if (!files.enabled()) return grpc::InsecureChannelCredentials();
  if (!files.client_ca.empty()) return nullptr;
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_verify_server_certs(false);
  options.set_check_call_host(false);
  options.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace gr::service
