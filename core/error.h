// gr::Error: the one exception type thrown by graphrec libraries, carrying an
// ErrorCode so that service/ can map it to a gRPC status. Check macros build
// messages that name the failed condition, the values and the source place.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gr {

enum class ErrorCode { kInvalidArgument, kNotFound, kCorruption, kIo, kInternal };

// Short lowercase name of a code, e.g. "invalid argument".
std::string_view ErrorCodeName(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

namespace internal {
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
[[noreturn]] void ThrowError(ErrorCode code, const char* file, int line,
                             const std::string& message);
}  // namespace internal

// StrCat("a=", 1, " b=", 2.5): streams each argument into one string.
using internal::StrCat;

// Untrusted text (a field, a key, a name read from a file or a request) as
// it may appear inside an error message: bytes outside printable ASCII as
// \xNN, and at most max_bytes of it, a cut one followed by its length.
std::string Excerpt(std::string_view text, size_t max_bytes = 64);

}  // namespace gr

// GR_THROW(code, parts...): throws gr::Error(code) with the parts joined and
// the source place appended.
#define GR_THROW(code, ...) \
  ::gr::internal::ThrowError((code), __FILE__, __LINE__, ::gr::StrCat(__VA_ARGS__))

// GR_CHECK(cond, parts...): throws kInvalidArgument naming the condition.
#define GR_CHECK(cond, ...)                                                   \
  do {                                                                        \
    if (!(cond)) [[unlikely]]                                                 \
      GR_THROW(::gr::ErrorCode::kInvalidArgument, "check failed: " #cond ": ", \
               __VA_ARGS__);                                                  \
  } while (0)

// GR_CHECK_CODE(cond, code, parts...): as GR_CHECK with an explicit code.
#define GR_CHECK_CODE(cond, code, ...)    \
  do {                                    \
    if (!(cond)) [[unlikely]]             \
      GR_THROW((code), __VA_ARGS__);      \
  } while (0)
