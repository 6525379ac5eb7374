// What the server writes to the process log besides its own events: failed
// requests (method, status, reason; at most kFailedRequestLinesPerSecond a
// second, with a count of the lines left out) and gRPC's own log lines,
// which otherwise go to stderr in gRPC's format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gr::service {

inline constexpr uint64_t kFailedRequestLinesPerSecond = 20;

// A request of `method` that ended with gRPC status `code` (not OK): logs
// FailedRequestLine, at info for a client's mistake (invalid argument, not
// found, unauthenticated, ...), else as a warning. Returns false when the
// second's quota was used up (the line is counted, and the count logged
// with the next second's first line).
bool LogFailedRequest(std::string_view method, int code, std::string_view message);
std::string FailedRequestLine(std::string_view method, int code, std::string_view message);
bool IsClientMistake(int code);

// gRPC's log lines into spdlog at the matching level (call once, before
// the first gRPC server or channel).
void RouteGrpcLogs();

}  // namespace gr::service
