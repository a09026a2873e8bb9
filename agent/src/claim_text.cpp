#include <trimtab/agent/claim_text.hpp>

#include <cmath>
#include <iomanip>
#include <sstream>

#include <trimtab/core/journal_codec.hpp>

namespace trimtab {
namespace {

// A change in percent (relative claims) or in the objective's units, with its sign.
std::string change(double value, bool relative) {
  std::ostringstream out;
  out << std::showpos << std::setprecision(3) << (relative ? value * 100.0 : value) << (relative ? " %" : "");
  return out.str();
}

} // namespace

std::string claim_interval(const ClaimRecord& claim) {
  if (!claim.estimate || !std::isfinite(claim.estimate->improvement)) return "—";
  const auto& estimate = *claim.estimate;
  std::string out = change(estimate.improvement, estimate.relative);
  if (estimate.low != estimate.high) out += " [" + change(estimate.low, estimate.relative) + ", " + change(estimate.high, estimate.relative) + "]";
  return out;
}

std::string describe_claim(const ClaimRecord& claim) {
  if (!claim.estimate || !std::isfinite(claim.estimate->improvement)) return "no improvement claimed: " + claim.reason;
  std::ostringstream confidence;
  confidence << std::setprecision(3) << claim.confidence * 100.0;
  std::string out = claim_interval(claim) + " over the baseline";
  if (claim.estimate->low != claim.estimate->high) out += " (" + confidence.str() + " % interval)";
  out += "; " + (claim.method.empty() ? std::string("estimate") : claim.method) + ": " + claim.reason;
  return out;
}

std::optional<ClaimRecord> claim_from_json(const boost::json::object& json) {
  try {
    auto record = decode_record(json);
    if (auto* claim = std::get_if<ClaimRecord>(&record)) return std::move(*claim);
  } catch (const std::invalid_argument&) {
  }
  return std::nullopt;
}

} // namespace trimtab
