// The process log (spdlog, stderr): ISO-8601 timestamps with date and UTC
// offset, a level threshold, and text or JSON lines (one object a line:
// time, level, message), chosen by graphrec's --log-level / --log-format,
// and progress lines in it (--progress).
#pragma once

#include <string_view>

namespace gr::apps {

// "text" (default) or "json". Throws kInvalidArgument naming the value.
void SetLogFormat(std::string_view format);
// trace, debug, info (default), warn, error, critical or off. Throws
// kInvalidArgument naming the value.
void SetLogLevel(std::string_view level);

// Progress of long steps (core/progress.h) as info lines of the log:
// "auto" (default) when stderr is a terminal, "always", or "never"; at most
// every `seconds` (a number >= 0) per step. Throws kInvalidArgument naming a bad
// value.
void SetProgressMode(std::string_view mode);
void SetProgressInterval(std::string_view seconds);

}  // namespace gr::apps
