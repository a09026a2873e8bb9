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

void JournalCompaction::add(const json::object& r) {
  static const std::map<std::string_view, Kind, std::less<>> kinds{
      {"compacted", Kind::compacted}, {"recommendation", Kind::recommendation},
      {"start", Kind::start},         {"mode", Kind::mode},
      {"safe_mode", Kind::safe_mode}, {"guard", Kind::guard},
      {"claim", Kind::claim},         {"done", Kind::done},
      {"incumbent", Kind::incumbent}, {"operator", Kind::operator_action},
      {"applied", Kind::applied},     {"decision", Kind::decision},
      {"observation", Kind::observation}, {"proposal", Kind::proposal},
      {"apply", Kind::apply}};
  Digest d;
  d.time = time_of(r);
  newest_ = std::max(newest_, d.time);
  const auto type = text_of(r, "type");
  if (!type.empty()) {
    const auto it = kinds.find(type);
    d.kind = it == kinds.end() ? Kind::other : it->second;
  }
  if (auto key = point_key(r); !key.empty()) {
    const auto [it, added] = point_ids_.try_emplace(std::move(key), static_cast<std::uint32_t>(point_ids_.size() + 1));
    d.point = it->second;
  }
  d.remeasure = d.kind == Kind::observation && text_of(r, "purpose") == "remeasure";
  d.rollback = d.kind == Kind::decision && text_of(r, "verdict") == "rollback";
  if (d.kind == Kind::operator_action) {
    const auto action = text_of(r, "action");
    d.pause_or_resume = action == "pause" || action == "resume";
  }
  d.selected = flag(r, "selected");
  const auto* counted = r.if_contains("counted");
  d.counted = !(counted != nullptr && counted->is_bool() && !counted->get_bool());
  digests_.push_back(d);
}

// The last record of each kind replay reads one of; for operators, the last pause or resume.
struct JournalCompaction::LastRecords {
  explicit LastRecords(const std::vector<Digest>& digests) : records(&digests) {
    for (std::size_t i = 0; i < digests.size(); ++i) {
      last_of_kind[digests[i].kind] = i;
      if (digests[i].pause_or_resume) last_pause_or_resume = i;
      if (digests[i].kind == Kind::applied) last_applied = i;
    }
  }
  [[nodiscard]] bool is_last(std::size_t i) const { return last_of_kind.at((*records)[i].kind) == i; }

  const std::vector<Digest>* records;
  std::map<Kind, std::size_t> last_of_kind;
  std::optional<std::size_t> last_pause_or_resume, last_applied;
};

void JournalCompaction::decide() {
  const std::size_t n = digests_.size();
  keep_.assign(n, true);
  std::size_t done_at = n;
  for (std::size_t i = 0; i < n && done_at == n; ++i)
    if (digests_[i].kind == Kind::done) done_at = i;
  const LastRecords last(digests_);
  drop_surplus_remeasures(done_at, last);

  const std::int64_t recent_from = newest_ - static_cast<std::int64_t>(policy_.recent.count());
  for (std::size_t i = 0; i < n; ++i) {
    switch (digests_[i].kind) {
    case Kind::untyped:
      break;
    case Kind::compacted:
      keep_[i] = false;
      break;
    case Kind::recommendation:
      keep_[i] = last.is_last(i);
      break;
    default:
      if (i <= done_at || !keep_[i]) break;
      keep_[i] = kept_after_study(i, last, recent_from);
    }
  }
}

// Re-measured windows beyond the last few of their configuration, with what was written about
// them: after the study, when it is done (its own windows are kept with the rest of it: a study
// that re-measured one configuration more often than that once lost them here); everywhere
// when it never ends (recommend mode measures the running configuration for ever).
void JournalCompaction::drop_surplus_remeasures(std::size_t done_at, const LastRecords& last) {
  const auto& records = digests_;
  const std::size_t n = records.size();
  std::map<std::uint32_t, std::vector<std::size_t>> remeasures;
  for (std::size_t i = done_at < n ? done_at + 1 : 0; i < n; ++i)
    if (records[i].remeasure) remeasures[records[i].point].push_back(i);
  const auto windows_kept = std::max<std::size_t>(policy_.windows_per_config, 1);
  for (const auto& [point, windows] : remeasures) {
    if (windows.size() <= windows_kept) continue;
    for (std::size_t w = 0; w + windows_kept < windows.size(); ++w) {
      const auto at = windows[w];
      keep_[at] = false;
      for (std::size_t j = at + 1; j < n; ++j) {
        const auto kind = records[j].kind;
        if (kind == Kind::observation || kind == Kind::proposal || kind == Kind::apply) break;
        if (records[j].point != point) continue;
        if (kind == Kind::decision && !records[j].rollback) keep_[j] = false;
        if (kind == Kind::incumbent && !records[j].selected && !last.is_last(j)) keep_[j] = false;
      }
    }
  }
}

bool JournalCompaction::kept_after_study(std::size_t i, const LastRecords& last, std::int64_t recent_from) const {
  const auto& r = digests_[i];
  switch (r.kind) {
  case Kind::start:
  case Kind::mode:
  case Kind::safe_mode:
  case Kind::guard:
  case Kind::claim:
  case Kind::done:
    return last.is_last(i);
  case Kind::incumbent:
    return last.is_last(i) || r.selected;
  case Kind::operator_action:
    return last.last_pause_or_resume && *last.last_pause_or_resume == i;
  case Kind::applied:
    return (last.last_applied && *last.last_applied == i) || r.time >= recent_from;
  case Kind::decision:
    return r.rollback && r.counted && r.time >= recent_from;
  case Kind::observation:
    return r.remeasure; // the last few, chosen by drop_surplus_remeasures
  default:
    return false; // proposals, apply requests, in_effect, refusals, switchback pairs, …
  }
}

json::object JournalCompaction::header() const {
  const auto kept = static_cast<std::size_t>(std::count(keep_.begin(), keep_.end(), true));
  return json::object{{"seq", 0}, {"time", newest_}, {"type", "compacted"}, {"dropped", digests_.size() - kept}, {"kept", kept}};
}

std::vector<json::object> compact_journal(std::vector<json::object> records, const CompactionPolicy& policy) {
  JournalCompaction compaction(policy);
  for (const auto& r : records) compaction.add(r);
  compaction.decide();
  std::vector<json::object> out;
  out.push_back(compaction.header());
  for (std::size_t i = 0; i < records.size(); ++i)
    if (compaction.keeps(i)) out.push_back(std::move(records[i]));
  return out;
}

} // namespace trimtab
