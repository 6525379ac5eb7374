#include "apps/rpc_client.h"

#include "core/error.h"

namespace gr::apps {

std::unique_ptr<graphrec::v1::Graphrec::Stub> ConnectTo(const std::string& address) {
  return graphrec::v1::Graphrec::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

std::unique_ptr<grpc::ClientContext> ContextWithTimeout(double seconds, const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6)));
  return context;
}

void AddTokenOption(CLI::App* cmd, std::string& token) {
  cmd->add_option("--token", token, "bearer token for a server started with --auth-tokens")
      ->envname("GRAPHREC_TOKEN");
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
