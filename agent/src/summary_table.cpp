#include <trimtab/agent/summary_table.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include <boost/json/serialize.hpp>

#include <trimtab/agent/claim_text.hpp>
#include <trimtab/agent/readable.hpp>

namespace trimtab {
namespace {

std::string cell(std::optional<double> value) { return value ? readable_number(*value) : std::string("-"); }

std::string cell(const std::optional<boost::json::object>& point, const std::string& param) {
  if (!point) return "-";
  const auto* value = point->if_contains(param);
  if (value == nullptr) return "-";
  if (value->is_string()) return std::string(value->get_string());
  if (value->is_number()) return readable_number(value->to_number<double>());
  return boost::json::serialize(*value);
}

// The change from before to after in percent, as measured (the claim's interval follows the table).
std::string change(std::optional<double> before, std::optional<double> after) {
  if (!before || !after || *before == 0) return "";
  std::ostringstream text;
  text << std::showpos << std::fixed << std::setprecision(0) << (*after - *before) / std::fabs(*before) * 100 << " %";
  return text.str();
}

} // namespace

void print_summary_table(const StudyReport& report, std::span<const std::string> params, std::ostream& out,
                         std::span<const SummaryRow> extra) {
  const auto best = report.incumbent ? report.incumbent : report.baseline;
  const auto best_value = report.incumbent ? report.incumbent_value : report.baseline_value;
  std::size_t width = std::string("objective").size() + 2;
  for (const auto& param : params) width = std::max(width, param.size() + 2);
  for (const auto& row : extra) width = std::max(width, row.label.size() + 2);
  const auto w = static_cast<int>(width);
  out << '\n' << std::left << std::setw(w) << "" << std::setw(14) << "default" << std::setw(14) << "best" << "change\n";
  for (const auto& param : params)
    out << std::setw(w) << param << std::setw(14) << cell(report.baseline, param) << std::setw(14) << cell(best, param) << '\n';
  out << std::setw(w) << "objective" << std::setw(14) << cell(report.baseline_value) << std::setw(14) << cell(best_value)
      << change(report.baseline_value, best_value) << "   (" << (report.maximize ? "maximize " : "minimize ")
      << report.objective_expression << ")\n";
  for (const auto& row : extra) {
    out << std::setw(w) << row.label << std::setw(14) << cell(row.before) << std::setw(14) << cell(row.after)
        << change(row.before, row.after);
    if (!row.note.empty()) out << "   (" << row.note << ')';
    out << '\n';
  }
  out << std::right;
  if (report.claim) out << "\nclaimed: " << describe_claim(*report.claim) << '\n';
}

} // namespace trimtab
