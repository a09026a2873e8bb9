#include <trimtab/agent/decision_text.hpp>

#include <trimtab/agent/readable.hpp>

namespace trimtab {

std::string describe_decision(const DecisionRecord& r) {
  const auto point = r.point ? readable_point(*r.point) : std::string("none");
  const auto value = readable_number(r.value);
  const auto& reason = r.reason;
  const auto against = r.incumbent_value ? " against the incumbent's " + readable_number(*r.incumbent_value) : std::string();
  if (r.guard) {
    // After the study: the best is guarded, and the reason says where it stands.
    if (r.verdict == DecisionVerdict::rollback) return "guard: rolled back from " + point + " to the baseline; " + reason;
    if (r.verdict == DecisionVerdict::discard) return "guard: discarded the window of " + point + ": " + reason;
    return "guard: " + point + " scored " + value + "; " + reason;
  }
  switch (r.verdict) {
  case DecisionVerdict::promote: return "promoted " + point + ": objective " + value + against + "; " + reason;
  case DecisionVerdict::rollback: return "rolled back " + point + ": objective " + value + against + "; " + reason;
  case DecisionVerdict::extend: return "measuring " + point + " again: objective " + value + against + "; " + reason;
  case DecisionVerdict::confirm:
    return "confirming " + point + " by switchback: objective " + value + against + "; " + reason;
  case DecisionVerdict::discard: return "discarded the window of " + point + ": " + reason;
  case DecisionVerdict::keep:
    if (!r.incumbent_value) return "measured " + point + ": objective " + value + "; " + reason;
    return "kept the incumbent (objective " + readable_number(*r.incumbent_value) + "); " + point + " scored " + value +
           ": " + reason;
  }
  return std::string(verdict_name(r.verdict)) + " " + point + ": objective " + value + "; " + reason;
}

} // namespace trimtab
