#include <trimtab/agent/decision_text.hpp>

#include <trimtab/agent/readable.hpp>

namespace trimtab {
namespace {

std::string field(const boost::json::object& r, const char* key) {
  const auto* v = r.if_contains(key);
  return v == nullptr ? std::string("none") : readable_value(*v);
}

std::string text(const boost::json::object& r, const char* key) {
  const auto* v = r.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

} // namespace

std::string describe_decision(const boost::json::object& r) {
  const auto verdict = text(r, "verdict");
  const auto point = field(r, "point");
  const auto value = field(r, "value");
  const auto reason = text(r, "reason");
  const auto* incumbent = r.if_contains("incumbent_value");
  const bool has_incumbent = incumbent != nullptr && incumbent->is_number();
  const auto against = has_incumbent ? " against the incumbent's " + readable_value(*incumbent) : std::string();
  if (const auto* guard = r.if_contains("guard"); guard != nullptr && guard->is_bool() && guard->get_bool()) {
    // After the study: the best is guarded, and the reason says where it stands.
    if (verdict == "rollback") return "guard: rolled back from " + point + " to the baseline; " + reason;
    if (verdict == "discard") return "guard: discarded the window of " + point + ": " + reason;
    return "guard: " + point + " scored " + value + "; " + reason;
  }
  if (verdict == "promote") return "promoted " + point + ": objective " + value + against + "; " + reason;
  if (verdict == "rollback") return "rolled back " + point + ": objective " + value + against + "; " + reason;
  if (verdict == "extend") return "measuring " + point + " again: objective " + value + against + "; " + reason;
  if (verdict == "confirm") return "confirming " + point + " by switchback: objective " + value + against + "; " + reason;
  if (verdict == "discard") return "discarded the window of " + point + ": " + reason;
  if (verdict == "keep" && !has_incumbent) return "measured " + point + ": objective " + value + "; " + reason;
  if (verdict == "keep")
    return "kept the incumbent (objective " + readable_value(*incumbent) + "); " + point + " scored " + value + ": " + reason;
  return verdict + " " + point + ": objective " + value + "; " + reason;
}

} // namespace trimtab
