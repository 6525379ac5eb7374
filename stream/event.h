// Events that change the graph between nightly batches, in the terms of the
// ingest files: external ids and Unix-second timestamps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/ids.h"

namespace gr::stream {

enum class EventKind : uint8_t {
  kFollow = 1,       // actor follows object
  kUnfollow = 2,     // actor stops following object
  kInteraction = 3,  // actor interacts with post object (interaction, dwell_ms)
  kPost = 4,         // actor publishes post object
  kAccount = 5,      // actor is a new account (object unused, 0)
};

struct Event {
  EventKind kind = EventKind::kFollow;
  uint8_t interaction = 0;  // kInteraction: 0 click, 1 like, 2 comment, 3 repost
  uint32_t time = 0;        // Unix seconds, 0 = unknown
  uint32_t dwell_ms = 0;    // kInteraction only
  ExternalId actor = 0;
  ExternalId object = 0;
  friend bool operator==(const Event&, const Event&) = default;
};

// "follow", "unfollow", "interaction", "post", "account"; "unknown" otherwise.
std::string_view KindName(EventKind kind);

// Empty if `event` is well-formed, else why not: an unknown kind, an
// interaction type past 3, an interaction type, dwell or object where the
// kind has none. (Self-follows are well-formed; the graph drops them, as
// ingest does.)
std::string CheckEvent(const Event& event);

}  // namespace gr::stream
