#include "record_log_line.hpp"

#include <trimtab/agent/claim_text.hpp>
#include <trimtab/agent/decision_text.hpp>
#include <trimtab/agent/readable.hpp>
#include <trimtab/core/overloaded.hpp>

namespace trimtab {
namespace {

using Line = std::optional<RecordLogLine>;

Line info(std::string text) { return RecordLogLine{LogLevel::info, std::move(text)}; }
Line warning(std::string text) { return RecordLogLine{LogLevel::warning, std::move(text)}; }

Line line_for(const RefusalRecord& r) {
  // Pacing defers an apply, it does not refuse it: that is how min_dwell and the update rate
  // work, every time, and no cause for a warning.
  if (r.reason == "min_dwell" || r.reason == "rate_limit") return info("waiting: " + r.detail);
  return warning("refused (" + r.reason + "): " + r.detail);
}

Line line_for(const InEffectRecord& r) {
  const auto waited = std::to_string(r.waited_ms);
  if (r.confirmed) return info("in effect after " + waited + " ms: " + readable_point(r.point));
  return warning("not confirmed in effect after " + waited + " ms, measured anyway: " + r.detail);
}

Line line_for(const SwitchbackRecord& r) {
  return info("switchback pair " + std::to_string(r.pair) + "/" + std::to_string(r.of) + ": " +
              readable_number(r.candidate_value) + " for " + readable_point(r.candidate) + " against " +
              readable_number(r.incumbent_value) + " for " + readable_point(r.incumbent));
}

Line line_for(const DoneRecord& r) {
  return info("study done (" + r.reason + "): best " + (r.best ? readable_point(*r.best) : std::string("none")) +
              ", objective " + readable_number(r.best_value));
}

Line line_for(const RecommendationRecord& r) {
  return info("recommendation " + (r.point ? readable_point(*r.point) : std::string("none")) + ": " +
              r.reason.value_or(""));
}

} // namespace

std::optional<RecordLogLine> record_log_line(const JournalRecord& record) {
  return std::visit(
      detail::overloaded{
          [](const RefusalRecord& r) { return line_for(r); },
          [](const DecisionRecord& r) { return info(describe_decision(r)); },
          [](const ApplyFailedRecord& r) { return warning("apply failed: " + r.error); },
          [](const SafeModeRecord& r) { return warning((r.entered ? "safe mode entered: " : "safe mode left: ") + r.reason); },
          [](const DoneRecord& r) { return line_for(r); },
          [](const AppliedRecord& r) {
            return info("applied " + readable_point(r.point) + " (" + purpose_name(r.purpose) + ")");
          },
          [](const InEffectRecord& r) { return line_for(r); },
          [](const OperatorRecord& r) { return info(std::string("operator: ") + command_name(r.action) + " from " + r.source); },
          [](const ModeRecord& r) { return info(std::string("mode: ") + mode_name(r.mode)); },
          [](const RecommendationRecord& r) { return line_for(r); },
          [](const ClaimRecord& r) { return info("claim: " + describe_claim(r)); },
          [](const GuardRecord& r) {
            return info("guarding " + readable_point(r.point) + " from objective " + readable_number(r.value) + ": " + r.reason);
          },
          [](const SwitchbackRecord& r) { return line_for(r); },
          [](const auto&) { return Line(); },
      },
      record);
}

} // namespace trimtab
