// The CLI's side of the gRPC service (graphrec query, graphrec events): a
// stub for an address, and failed calls as gr::Errors.
#pragma once

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "proto/graphrec.grpc.pb.h"

namespace gr::apps {

// How a client command reaches the server: a bearer token, and TLS (a CA to
// verify the server with; a certificate and key when the server requires
// client certificates). Set by AddClientOptions.
struct ClientOptions {
  std::string token;
  std::string tls_ca, tls_cert, tls_key;
};

// --token ($GRAPHREC_TOKEN), --tls-ca, --tls-cert, --tls-key.
void AddClientOptions(CLI::App* cmd, ClientOptions& options);

// Plaintext unless options.tls_ca is set. Throws kIo for an unreadable file.
std::unique_ptr<graphrec::v1::Graphrec::Stub> ConnectTo(const std::string& address, const ClientOptions& options = {});

// A context whose deadline is `seconds` from now, carrying `token` as a
// bearer token when not empty.
std::unique_ptr<grpc::ClientContext> ContextWithTimeout(double seconds, const std::string& token = "");

// Throws for a failed status: NOT_FOUND as kNotFound, INVALID_ARGUMENT as
// kInvalidArgument, anything else as kIo; the message starts with `what`.
void ThrowIfFailed(const grpc::Status& status, const std::string& what);

}  // namespace gr::apps
