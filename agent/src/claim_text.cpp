#include <trimtab/agent/claim_text.hpp>

#include <cmath>
#include <iomanip>
#include <optional>
#include <sstream>

namespace trimtab {
namespace {

std::optional<double> number(const boost::json::object& r, const char* key) {
  const auto* v = r.if_contains(key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  const double d = v->to_number<double>();
  return std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
}

std::string text(const boost::json::object& r, const char* key) {
  const auto* v = r.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// A change in percent (relative claims) or in the objective's units, with its sign.
std::string change(double value, bool relative) {
  std::ostringstream out;
  out << std::showpos << std::setprecision(3) << (relative ? value * 100.0 : value) << (relative ? " %" : "");
  return out.str();
}

} // namespace

std::string claim_interval(const boost::json::object& claim) {
  const auto improvement = number(claim, "improvement");
  if (!improvement) return "—";
  const auto* relative_value = claim.if_contains("relative");
  const bool relative = relative_value == nullptr || !relative_value->is_bool() || relative_value->get_bool();
  std::string out = change(*improvement, relative);
  const auto low = number(claim, "low"), high = number(claim, "high");
  if (low && high && *low != *high) out += " [" + change(*low, relative) + ", " + change(*high, relative) + "]";
  return out;
}

std::string describe_claim(const boost::json::object& claim) {
  const auto method = text(claim, "method");
  const auto reason = text(claim, "reason");
  if (!number(claim, "improvement")) return "no improvement claimed: " + reason;
  std::ostringstream confidence;
  confidence << std::setprecision(3) << number(claim, "confidence").value_or(0.95) * 100.0;
  std::string out = claim_interval(claim) + " over the baseline";
  if (number(claim, "low") != number(claim, "high")) out += " (" + confidence.str() + " % interval)";
  out += "; " + (method.empty() ? std::string("estimate") : method) + ": " + reason;
  return out;
}

} // namespace trimtab
