// The CLI's side of the gRPC service (graphrec query, graphrec events): a
// stub for an address, and failed calls as gr::Errors.
#pragma once

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "proto/graphrec.grpc.pb.h"

namespace gr::apps {

std::unique_ptr<graphrec::v1::Graphrec::Stub> ConnectTo(const std::string& address);

// A context whose deadline is `seconds` from now, carrying `token` as a
// bearer token when not empty.
std::unique_ptr<grpc::ClientContext> ContextWithTimeout(double seconds, const std::string& token = "");

// The --token option of a client command (default: $GRAPHREC_TOKEN).
void AddTokenOption(CLI::App* cmd, std::string& token);

// Throws for a failed status: NOT_FOUND as kNotFound, INVALID_ARGUMENT as
// kInvalidArgument, anything else as kIo; the message starts with `what`.
void ThrowIfFailed(const grpc::Status& status, const std::string& what);

}  // namespace gr::apps
