#include "service/request_log.h"

#include <grpc/support/log.h>
#include <grpcpp/support/status.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include "core/error.h"
#include "service/latency.h"

namespace gr::service {

bool IsClientMistake(int code) {
  switch (static_cast<grpc::StatusCode>(code)) {
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::UNAUTHENTICATED: return true;
    default: return false;
  }
}

std::string FailedRequestLine(std::string_view method, int code, std::string_view message) {
  return StrCat(method, " failed: ", GrpcCodeName(code), ": ", Excerpt(message, 300));
}

bool LogFailedRequest(std::string_view method, int code, std::string_view message) {
  static std::mutex mutex;
  static int64_t window = 0;          // the current second
  static uint64_t logged = 0, left_out = 0;
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  uint64_t left_out_before = 0;
  {
    std::lock_guard lock(mutex);
    if (now != window) {
      left_out_before = left_out;
      window = now;
      logged = left_out = 0;
    }
    if (logged == kFailedRequestLinesPerSecond) {
      ++left_out;
      return false;
    }
    ++logged;
  }
  if (left_out_before > 0) spdlog::warn("{} failed requests were not logged (at most {} a second)", left_out_before,
                                        kFailedRequestLinesPerSecond);
  spdlog::log(IsClientMistake(code) ? spdlog::level::info : spdlog::level::warn, "{}",
              FailedRequestLine(method, code, message));
  return true;
}

void RouteGrpcLogs() {
  gpr_set_log_function([](gpr_log_func_args* args) {
    const spdlog::level::level_enum level = args->severity == GPR_LOG_SEVERITY_ERROR  ? spdlog::level::err
                                            : args->severity == GPR_LOG_SEVERITY_INFO ? spdlog::level::info
                                                                                      : spdlog::level::debug;
    spdlog::log(level, "grpc: {} ({}:{})", args->message, args->file, args->line);
  });
}

}  // namespace gr::service
