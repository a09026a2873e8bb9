#include <trimtab/agent/status_text.hpp>

#include <trimtab/agent/claim_text.hpp>
#include <trimtab/agent/readable.hpp>

namespace trimtab {
namespace {

std::string at(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v == nullptr ? std::string("none") : readable_value(*v);
}

bool flag(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

} // namespace

std::string status_summary(const boost::json::object& status) {
  std::string out;
  auto line = [&](const std::string& label, const std::string& text) {
    out += label;
    out.append(label.size() < 12 ? 12 - label.size() : 1, ' ');
    out += text + '\n';
  };
  std::string phase = at(status, "phase");
  if (flag(status, "paused") && phase != "paused") phase += ", paused";
  if (flag(status, "safe_mode") && phase != "safe_mode") phase += ", in safe mode";
  if (flag(status, "confirming")) phase += ", confirming by switchback";
  line("phase", phase + " (mode " + at(status, "mode") + ")");
  line("applied", at(status, "applied"));
  if (status.contains("incumbent")) line("best", at(status, "incumbent") + "  (objective " + at(status, "incumbent_value") + ")");
  line("windows", at(status, "windows_scored") + " scored, " + at(status, "candidate_windows") + " of " + at(status, "budget") +
                      " candidates; " + at(status, "rollbacks_last_hour") + " rollbacks in the last hour");
  const auto* claim_json = status.if_contains("claim");
  const auto claim = claim_json != nullptr && claim_json->is_object() ? claim_from_json(claim_json->get_object()) : std::nullopt;
  if (claim) {
    line("claimed", describe_claim(*claim));
  } else if (const auto* stats = status.if_contains("statistics"); stats != nullptr && stats->is_object()) {
    const auto& s = stats->get_object();
    if (const auto* improvement = s.if_contains("improvement"); improvement != nullptr && improvement->is_number())
      line("improvement", readable_number(improvement->to_number<double>() * 100.0) + " % over the baseline (" +
                              at(s, "improvement_method") + ")");
  }
  if (const auto* guard = status.if_contains("guard"); guard != nullptr && guard->is_object()) {
    // After the study: where the guarded best stands against its level when guarding began.
    const auto& g = guard->get_object();
    std::string text = "the best's objective " + at(g, "reference") + " when guarding began";
    if (const auto* change = g.if_contains("change"); change != nullptr && change->is_number())
      text += "; " + at(g, "recent") + " over its last " + at(g, "recent_windows") + " windows (" +
              readable_number(change->to_number<double>() * 100.0) + " %)";
    line("guarding", text);
  }
  if (const auto* signals = status.if_contains("signals"); signals != nullptr && signals->is_object() && !signals->get_object().empty())
    line("signals", readable_point(signals->get_object()));
  if (const auto* refusals = status.if_contains("refusals"); refusals != nullptr && refusals->is_object() &&
                                                              !refusals->get_object().empty())
    line("refusals", readable_point(refusals->get_object()));
  if (const auto* scrapes = status.if_contains("scrapes"); scrapes != nullptr && scrapes->is_object()) {
    const auto& sc = scrapes->get_object();
    std::string text = at(sc, "ok") + " ok, " + at(sc, "failed") + " failed";
    const auto* error = sc.if_contains("last_error");
    if (error != nullptr && error->is_string() && !error->get_string().empty()) text += "; last error: " + std::string(error->get_string());
    line("scrapes", text);
  }
  return out;
}

} // namespace trimtab
