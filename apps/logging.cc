#include "apps/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/progress.h"

namespace gr::apps {
namespace {

constexpr const char* kIsoTime = "%Y-%m-%dT%H:%M:%S.%e%z";

// %* : the message as the inside of a JSON string.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    for (const char c : msg.payload) {
      switch (c) {
        case '"': dest.append(std::string_view("\\\"")); break;
        case '\\': dest.append(std::string_view("\\\\")); break;
        case '\n': dest.append(std::string_view("\\n")); break;
        case '\r': dest.append(std::string_view("\\r")); break;
        case '\t': dest.append(std::string_view("\\t")); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
            dest.append(std::string_view(escaped));
          } else {
            dest.push_back(c);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonEscapedMessage>(); }
};

std::string progress_mode = "auto";
double progress_interval_seconds = 5;

void ApplyProgressSettings() {
  const bool on = progress_mode == "always" || (progress_mode == "auto" && ::isatty(STDERR_FILENO) == 1);
  SetProgressSink(on ? ProgressSink([](const ProgressUpdate& u) { spdlog::info("{}", ProgressText(u)); })
                     : ProgressSink(),
                  progress_interval_seconds);
}

}  // namespace

void SetProgressMode(std::string_view mode) {
  GR_CHECK_CODE(mode == "auto" || mode == "always" || mode == "never", ErrorCode::kInvalidArgument,
                "--progress must be auto, always or never, got '", Excerpt(mode), "'");
  progress_mode = mode;
  ApplyProgressSettings();
}

void SetProgressInterval(std::string_view seconds) {
  double parsed = -1;
  const auto [end, error] = std::from_chars(seconds.data(), seconds.data() + seconds.size(), parsed);
  GR_CHECK_CODE(error == std::errc() && end == seconds.data() + seconds.size() && parsed >= 0,
                ErrorCode::kInvalidArgument, "--progress-seconds must be a number >= 0, got '", Excerpt(seconds), "'");
  progress_interval_seconds = parsed;
  ApplyProgressSettings();
}

void SetLogFormat(std::string_view format) {
  if (format == "text") {
    spdlog::set_pattern(std::string(kIsoTime) + " %^%l%$ %v");
  } else if (format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<JsonEscapedMessage>('*').set_pattern(
        std::string(R"({"time":")") + kIsoTime + R"(","level":"%l","message":"%*"})");
    spdlog::set_formatter(std::move(formatter));
  } else {
    GR_THROW(ErrorCode::kInvalidArgument, "--log-format must be text or json, got '", Excerpt(format), "'");
  }
}

void SetLogLevel(std::string_view level) {
  const spdlog::level::level_enum parsed = spdlog::level::from_str(std::string(level));
  // from_str answers "off" for anything it does not know.
  GR_CHECK_CODE(parsed != spdlog::level::off || level == "off", ErrorCode::kInvalidArgument,
                "--log-level must be trace, debug, info, warn, error, critical or off, got '", Excerpt(level), "'");
  spdlog::set_level(parsed);
}

}  // namespace gr::apps
