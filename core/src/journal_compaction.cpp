#include <trimtab/core/journal_compaction.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <trimtab/core/json_text.hpp>

namespace trimtab {
namespace {

namespace json = boost::json;

std::string_view text_of(const json::object& r, std::string_view key) {
  const auto* v = r.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

std::int64_t time_of(const json::object& r) {
  const auto* v = r.if_contains("time");
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return v->is_double() ? static_cast<std::int64_t>(v->get_double()) : 0;
}

bool flag(const json::object& r, std::string_view key) {
  const auto* v = r.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

// A point as text, to group windows by configuration (the journal writes one point one way).
std::string point_key(const json::object& r) {
  const auto* v = r.if_contains("point");
  return v == nullptr ? std::string() : to_json_text(*v);
}

} // namespace

std::vector<json::object> compact_journal(std::vector<json::object> records, const CompactionPolicy& policy) {
  const std::size_t n = records.size();
  std::vector<bool> keep(n, true);
  std::size_t done_at = n;
  std::int64_t newest = 0;
  for (std::size_t i = 0; i < n; ++i) {
    newest = std::max(newest, time_of(records[i]));
    if (done_at == n && text_of(records[i], "type") == "done") done_at = i;
  }
  const std::int64_t recent_from = newest - static_cast<std::int64_t>(policy.recent.count());

  // The last record of each kind replay reads one of; for operators, the last pause or resume.
  std::map<std::string, std::size_t, std::less<>> last_of;
  std::optional<std::size_t> last_pause_or_resume, last_applied;
  for (std::size_t i = 0; i < n; ++i) {
    const auto type = text_of(records[i], "type");
    last_of[std::string(type)] = i;
    if (type == "operator") {
      const auto action = text_of(records[i], "action");
      if (action == "pause" || action == "resume") last_pause_or_resume = i;
    }
    if (type == "applied") last_applied = i;
  }
  const auto is_last = [&](std::size_t i) {
    const auto it = last_of.find(text_of(records[i], "type"));
    return it != last_of.end() && it->second == i;
  };

  // Re-measured windows beyond the last few of their configuration, with what was written about
  // them: after the study, when it is done (its own windows are kept with the rest of it: a study
  // that re-measured one configuration more often than that once lost them here); everywhere
  // when it never ends (recommend mode measures the running configuration for ever).
  std::map<std::string, std::vector<std::size_t>> remeasures;
  for (std::size_t i = done_at < n ? done_at + 1 : 0; i < n; ++i)
    if (text_of(records[i], "type") == "observation" && text_of(records[i], "purpose") == "remeasure")
      remeasures[point_key(records[i])].push_back(i);
  const auto windows_kept = std::max<std::size_t>(policy.windows_per_config, 1);
  for (const auto& [point, windows] : remeasures) {
    if (windows.size() <= windows_kept) continue;
    for (std::size_t w = 0; w + windows_kept < windows.size(); ++w) {
      const auto at = windows[w];
      keep[at] = false;
      for (std::size_t j = at + 1; j < n; ++j) {
        const auto type = text_of(records[j], "type");
        if (type == "observation" || type == "proposal" || type == "apply") break;
        if (point_key(records[j]) != point) continue;
        if (type == "decision" && text_of(records[j], "verdict") != "rollback") keep[j] = false;
        if (type == "incumbent" && !flag(records[j], "selected") && !is_last(j)) keep[j] = false;
      }
    }
  }

  for (std::size_t i = 0; i < n; ++i) {
    const auto& r = records[i];
    const auto type = text_of(r, "type");
    if (type.empty()) continue;
    if (type == "compacted") {
      keep[i] = false;
    } else if (type == "recommendation") {
      keep[i] = is_last(i);
    } else if (i > done_at && keep[i]) {
      if (type == "start" || type == "mode" || type == "safe_mode" || type == "guard" || type == "claim" || type == "done") {
        keep[i] = is_last(i);
      } else if (type == "incumbent") {
        keep[i] = is_last(i) || flag(r, "selected");
      } else if (type == "operator") {
        keep[i] = last_pause_or_resume && *last_pause_or_resume == i;
      } else if (type == "applied") {
        keep[i] = (last_applied && *last_applied == i) || time_of(r) >= recent_from;
      } else if (type == "decision") {
        const auto* counted = r.if_contains("counted");
        const bool counts = !(counted != nullptr && counted->is_bool() && !counted->get_bool());
        keep[i] = text_of(r, "verdict") == "rollback" && counts && time_of(r) >= recent_from;
      } else if (type == "observation") {
        keep[i] = text_of(r, "purpose") == "remeasure"; // the last few, chosen above
      } else {
        keep[i] = false; // proposals, apply requests, in_effect, refusals, switchback pairs, …
      }
    }
  }

  std::vector<json::object> out;
  const auto kept = static_cast<std::size_t>(std::count(keep.begin(), keep.end(), true));
  out.reserve(kept + 1);
  out.push_back(json::object{{"seq", 0},
                             {"time", newest},
                             {"type", "compacted"},
                             {"dropped", n - kept},
                             {"kept", kept}});
  for (std::size_t i = 0; i < n; ++i)
    if (keep[i]) out.push_back(std::move(records[i]));
  return out;
}

} // namespace trimtab
