#pragma once

// The study drawn for people: the history chart (SVG) and the HTML page that holds it, served as
// the status page and written by `trimtab report`.

#include <string>

#include <boost/json/object.hpp>

#include <trimtab/agent/study_fold.hpp>

namespace trimtab {

/// A self-contained SVG chart of the study: window index across, objective value up; one marker
/// per window coloured by verdict, the incumbent as a step line, the baseline dashed, a legend.
/// Each marker is an element with class "marker <verdict>" (pending when undecided, then
/// " anomaly" when WindowSummary::anomaly is set, drawn with a ring behind it of class
/// "anomaly-ring"), a data-window attribute and, when known, data-purpose. A window that shares the index of the one
/// before it (baseline, remeasure) is drawn halfway to the next index. Never prints a non-finite
/// number.
[[nodiscard]] std::string render_history_svg(const StudyReport& report, int width = 720, int height = 280);

/// The status page the control server serves: a self-contained HTML page (inline CSS, no
/// scripts) with the state, the chart, the parameters (baseline, incumbent, applied), the counts
/// with the improvement over the baseline, the trends and the last 20 decisions. `live_status` may hold "applied" (the point the adapters report
/// now, shown instead of the journal's last applied point), "mode" (a label such as
/// "recommend-only", shown next to the state) and "live" (true: the page refreshes itself every
/// 5 seconds). Unknown keys are ignored.
[[nodiscard]] std::string render_status_page(const StudyReport& report, const boost::json::object& live_status);

/// The same page for `trimtab report STATE_DIR`: drawn from the journal alone, never refreshing.
[[nodiscard]] std::string render_report_html(const StudyReport& report);

} // namespace trimtab
