// The process log (spdlog, stderr): ISO-8601 timestamps with date and UTC
// offset, a level threshold, and text or JSON lines (one object a line:
// time, level, message), chosen by graphrec's --log-level / --log-format.
#pragma once

#include <string_view>

namespace gr::apps {

// "text" (default) or "json". Throws kInvalidArgument naming the value.
void SetLogFormat(std::string_view format);
// trace, debug, info (default), warn, error, critical or off. Throws
// kInvalidArgument naming the value.
void SetLogLevel(std::string_view level);

}  // namespace gr::apps
