#include "stream/event.h"

#include "core/error.h"

namespace gr::stream {

std::string_view KindName(EventKind kind) {
  switch (kind) {
    case EventKind::kFollow: return "follow";
    case EventKind::kUnfollow: return "unfollow";
    case EventKind::kInteraction: return "interaction";
    case EventKind::kPost: return "post";
    case EventKind::kAccount: return "account";
  }
  return "unknown";
}

std::string CheckEvent(const Event& event) {
  using internal::StrCat;
  if (KindName(event.kind) == "unknown")
    return StrCat("unknown event kind ", static_cast<int>(event.kind), " (expected 1-5)");
  if (event.kind == EventKind::kInteraction) {
    if (event.interaction > 3)
      return StrCat("interaction type ", static_cast<int>(event.interaction),
                    " (expected 0 click, 1 like, 2 comment or 3 repost)");
    return {};
  }
  if (event.interaction != 0 || event.dwell_ms != 0)
    return StrCat("a ", KindName(event.kind), " event has no interaction type or dwell");
  if (event.kind == EventKind::kAccount && event.object != 0)
    return "an account event has no object (0 expected)";
  return {};
}

}  // namespace gr::stream
