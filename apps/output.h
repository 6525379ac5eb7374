// What commands print on stdout: text for people, or with --json (anywhere
// on the command line) one JSON object (recall: one a query) with one
// convention for every command: snake_case keys, ids as decimal strings (as
// protobuf's JSON mapping writes 64-bit integers, so no reader rounds them),
// counts and figures as numbers.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace gr::apps {

void SetJsonOutput(bool on);
bool JsonOutput();

// `object` as one line on stdout.
void PrintJson(const nlohmann::json& object);

// An account or post id in JSON output.
inline std::string JsonId(uint64_t id) { return std::to_string(id); }

}  // namespace gr::apps
