#include "core/error.h"

namespace gr {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kCorruption: return "corruption";
    case ErrorCode::kIo: return "I/O error";
    case ErrorCode::kInternal: return "internal error";
  }
  return "unknown error";
}

namespace internal {
void ThrowError(ErrorCode code, const char* file, int line, const std::string& message) {
  std::string_view path(file);
  if (auto slash = path.rfind('/'); slash != std::string_view::npos) path.remove_prefix(slash + 1);
  throw Error(code, StrCat(message, " [", path, ":", line, "]"));
}
}  // namespace internal

}  // namespace gr
