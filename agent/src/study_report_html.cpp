#include <trimtab/agent/study_report_html.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include <trimtab/core/expression.hpp>
#include <trimtab/core/json_text.hpp>
#include <trimtab/core/point_json.hpp>

#include "journal_record_fields.hpp"

namespace trimtab {
namespace json = boost::json;
using namespace journal_fields;

namespace {

// --- Text ----------------------------------------------------------------------------------------

/// Text for HTML and SVG (XML): the five special characters escaped, control characters XML
/// does not allow dropped.
std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default:
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
      out += c;
    }
  }
  return out;
}

std::string printf_text(const char* format, double value, int precision = -1) {
  char buffer[64];
  const int n = precision < 0 ? std::snprintf(buffer, sizeof buffer, format, value)
                              : std::snprintf(buffer, sizeof buffer, format, precision, value);
  if (n < 0) return "0";
  return std::string(buffer, static_cast<std::size_t>(std::min<int>(n, sizeof buffer - 1)));
}

/// A coordinate: one decimal, always finite.
std::string coord(double v) {
  if (!std::isfinite(v)) v = 0;
  v = std::clamp(v, -1.0e6, 1.0e6);
  std::string s = printf_text("%.1f", v);
  if (s == "-0.0") s = "0.0";
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s;
}

/// A value for people to read: about four significant digits, never "nan" or "inf".
std::string display_number(double v) {
  if (!std::isfinite(v)) return "—";
  const double a = std::abs(v);
  if (a == 0) return "0";
  if (a >= 1.0e15 || a < 1.0e-4) return printf_text("%.3e", v);
  if (a >= 1000) {
    std::string s = printf_text("%.1f", v);
    if (s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
    return s;
  }
  return printf_text("%.4g", v);
}

std::string display_number(const std::optional<double>& v) { return v ? display_number(*v) : "—"; }

std::string display_effect(const std::optional<double>& effect) {
  if (!effect || !std::isfinite(*effect)) return "—";
  const double percent = *effect * 100;
  if (std::abs(percent) < 0.05) return "0.0%";
  if (std::abs(percent) >= 1.0e6) return percent > 0 ? ">+1e6%" : "<-1e6%";
  return printf_text("%+.1f%%", percent);
}

std::string display_p_value(const std::optional<double>& p) {
  if (!p || !std::isfinite(*p)) return "—";
  if (*p < 0.001) return "<0.001";
  return printf_text("%.3f", *p);
}

std::string display_time(std::int64_t ms) {
  if (ms <= 0) return "—";
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (gmtime_r(&seconds, &tm) == nullptr) return "—";
  char buffer[40];
  const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return n == 0 ? "—" : std::string(buffer, n);
}

/// A parameter's value as configured: numbers exactly, labels as they are.
std::string display_param(const json::value& value) {
  if (value.is_string()) return escape(value.get_string());
  if (value.is_number()) return escape(display_number(value.to_number<double>()));
  return escape(to_json_text(value));
}

// --- The chart -----------------------------------------------------------------------------------

struct Style {
  const char* colour;
  const char* label;
};

Style verdict_style(std::string_view verdict) {
  if (verdict == "promote") return {"#1f9d55", "promote"};
  if (verdict == "keep") return {"#8a939e", "keep"};
  if (verdict == "rollback") return {"#d64545", "rollback"};
  if (verdict == "discard") return {"#c27c0e", "discard"};
  if (verdict.empty()) return {"#3b82f6", "pending"};
  return {"#6b7280", "other"};
}

constexpr const char* incumbent_colour = "#1b6b3a";
constexpr const char* baseline_colour = "#4b5563";
constexpr const char* axis_colour = "#9ca3af";
constexpr const char* grid_colour = "#e5e7eb";
constexpr const char* label_colour = "#4b5563";
constexpr const char* anomaly_colour = "#9333ea";

/// A 1-2-5 step: the next at or above `raw`, or with `nearest` the closest one.
double nice_step(double raw, bool nearest = false) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / magnitude;
  const double nice = nearest ? (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10)
                              : (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10);
  return nice * magnitude;
}

struct Axis {
  double lo = 0, hi = 1, step = 0.5;
};

Axis value_axis(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
  lo = std::clamp(lo, -1.0e300, 1.0e300); // so that hi - lo stays finite
  hi = std::clamp(hi, -1.0e300, 1.0e300);
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo <= std::max(std::abs(lo), std::abs(hi)) * 1.0e-9) { // one value: a band around it
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  } else { // keep markers off the frame
    const double pad = (hi - lo) * 0.04;
    lo -= pad;
    hi += pad;
  }
  Axis axis;
  axis.step = nice_step((hi - lo) / 5, true); // about five divisions
  axis.lo = std::floor(lo / axis.step) * axis.step;
  axis.hi = std::ceil(hi / axis.step) * axis.step;
  if (!std::isfinite(axis.lo) || !std::isfinite(axis.hi) || !(axis.hi > axis.lo)) return {};
  return axis;
}

std::string tick_label(double v, const Axis& axis) {
  if (std::abs(v) < axis.step * 1.0e-9) v = 0;
  const double magnitude = std::max(std::abs(axis.lo), std::abs(axis.hi));
  double divisor = 1;
  const char* suffix = "";
  if (magnitude >= 1.0e9) divisor = 1.0e9, suffix = "G";
  else if (magnitude >= 1.0e6) divisor = 1.0e6, suffix = "M";
  else if (magnitude >= 1.0e4) divisor = 1.0e3, suffix = "k";
  const double scaled = v / divisor;
  if (std::abs(scaled) >= 1.0e6) return printf_text("%.3g", scaled) + suffix;
  const double step = axis.step / divisor;
  const int decimals = step >= 1 ? 0 : std::min(9, static_cast<int>(std::ceil(-std::log10(step) - 1.0e-9)));
  std::string s = printf_text("%.*f", scaled, decimals);
  if (s.find_first_not_of("-0.") == std::string::npos) s = "0";
  return s + suffix;
}

std::string marker_title(const WindowSummary& window) {
  std::string title = "window " + std::to_string(window.index) + " · " +
                      (window.verdict.empty() ? std::string("pending") : window.verdict) +
                      " · value " + display_number(window.value);
  if (window.effect) title += " · effect " + display_effect(window.effect);
  if (window.p_value) title += " · p " + display_p_value(window.p_value);
  if (!window.reason.empty()) title += " · " + window.reason;
  if (window.anomaly) title += " · anomaly: far outside the recent range";
  std::string text = escape(title);
  for (const auto& entry : window.point) // one line per parameter: name = value
    text += "\n" + escape(entry.key()) + " = " + display_param(entry.value());
  return text;
}

void legend_item(std::string& svg, double& x, double y, const std::string& symbol, std::string_view label) {
  svg += "<g class=\"legend\">" + symbol + "<text x=\"" + coord(x + 16) + "\" y=\"" + coord(y + 4) + "\">" +
         escape(label) + "</text></g>";
  x += 16 + 6.1 * static_cast<double>(label.size()) + 18;
}

std::string circle(double x, double y, double r, const char* fill, const char* stroke, double stroke_width) {
  return "<circle cx=\"" + coord(x) + "\" cy=\"" + coord(y) + "\" r=\"" + coord(r) + "\" fill=\"" + fill +
         "\" stroke=\"" + stroke + "\" stroke-width=\"" + coord(stroke_width) + "\"/>";
}

std::string cross_path(double x, double y, double r) {
  return "M" + coord(x - r) + " " + coord(y - r) + "L" + coord(x + r) + " " + coord(y + r) + "M" + coord(x - r) +
         " " + coord(y + r) + "L" + coord(x + r) + " " + coord(y - r);
}

/// Where the chart draws and how it maps what it draws: the frame's edges in pixels, the value
/// axis (log10 of the values on a log scale) and the range of window positions across.
struct Plot {
  double w = 0, h = 0;
  double left = 0, right = 0, top = 0, bottom = 0;
  bool log_scale = false; // decided once the values are known
  Axis y_axis;
  double first = 0, last = 0; // the first and last window's positions
  double x_lo = 0, x_hi = 1;

  [[nodiscard]] double px(double index) const { return left + (index - x_lo) / (x_hi - x_lo) * (right - left); }
  [[nodiscard]] double py(double v) const {
    const double scaled = log_scale ? std::log10(v) : v;
    return bottom - (scaled - y_axis.lo) / (y_axis.hi - y_axis.lo) * (bottom - top);
  }
};

std::string svg_open(const Plot& plot) {
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"history\" width=\"" + coord(plot.w) +
                    "\" height=\"" + coord(plot.h) + "\" viewBox=\"0 0 " + coord(plot.w) + " " + coord(plot.h) +
                    "\" role=\"img\" aria-label=\"objective value per window\" font-family=\"system-ui, "
                    "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif\" font-size=\"11\">";
  svg += "<title>trimtab: objective value per window</title>";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + coord(plot.w) + "\" height=\"" + coord(plot.h) + "\" fill=\"#ffffff\"/>";
  return svg;
}

/// Across the top: a symbol and a name for each verdict and line, and the anomaly ring when the
/// chart has one.
void draw_legend(std::string& svg, const StudyReport& report, const Plot& plot) {
  double x = plot.left;
  const double y = 15;
  svg += "<g fill=\"" + std::string(label_colour) + "\">";
  legend_item(svg, x, y, circle(x + 5, y, 4.5, verdict_style("promote").colour, "#ffffff", 1), "promote");
  legend_item(svg, x, y, circle(x + 5, y, 4.5, verdict_style("keep").colour, "#ffffff", 1), "keep");
  legend_item(svg, x, y,
              "<path d=\"" + cross_path(x + 5, y, 4) + "\" stroke=\"" + verdict_style("rollback").colour +
                  "\" stroke-width=\"2.5\" stroke-linecap=\"round\" fill=\"none\"/>",
              "rollback");
  legend_item(svg, x, y, circle(x + 5, y, 4, "#ffffff", verdict_style("discard").colour, 2), "discard");
  legend_item(svg, x, y,
              "<path d=\"M" + coord(x - 2) + " " + coord(y) + "H" + coord(x + 12) + "\" stroke=\"" +
                  incumbent_colour + "\" stroke-width=\"2\"/>",
              "incumbent");
  legend_item(svg, x, y,
              "<path d=\"M" + coord(x - 2) + " " + coord(y) + "H" + coord(x + 12) + "\" stroke=\"" +
                  baseline_colour + "\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>",
              "baseline");
  if (std::any_of(report.windows.begin(), report.windows.end(), [](const auto& w) { return w.anomaly; }))
    legend_item(svg, x, y, circle(x + 5, y, 6, "none", anomaly_colour, 1.5), "anomaly");
  svg += "</g>";
}

/// The axes' lines and titles.
void draw_frame(std::string& svg, const Plot& plot, bool maximize) {
  svg += "<path class=\"axis\" d=\"M" + coord(plot.left) + " " + coord(plot.top) + "V" + coord(plot.bottom) + "H" +
         coord(plot.right) + "\" fill=\"none\" stroke=\"" + axis_colour + "\" stroke-width=\"1\"/>";
  svg += "<text class=\"axis-title\" x=\"" + coord((plot.left + plot.right) / 2) + "\" y=\"" + coord(plot.h - 6) +
         "\" text-anchor=\"middle\" fill=\"" + label_colour + "\">window</text>";
  svg += "<text class=\"axis-title\" transform=\"translate(14 " + coord((plot.top + plot.bottom) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\" fill=\"" + label_colour + "\">objective (" +
         (maximize ? "higher" : "lower") + " is better" + (plot.log_scale ? ", log scale" : "") + ")</text>";
}

/// Across: the window index. A measurement that shares the index of the candidate before it (the
/// baseline, a remeasure, a rollback, a window discarded unscored) sits halfway to the next one.
std::vector<double> window_positions(const std::vector<WindowSummary>& windows) {
  std::vector<double> position;
  position.reserve(windows.size());
  for (const auto& window : windows) {
    const double index = static_cast<double>(window.index);
    if (position.empty() || index > position.back()) {
      position.push_back(index);
    } else {
      const double previous = position.back();
      position.push_back(previous + (std::floor(previous) + 1 - previous) / 2);
    }
  }
  return position;
}

/// Fits the axes to what is drawn: the windows' values and incumbents and the baseline (finite
/// ones only) up, the window positions across.
void fit_axes(Plot& plot, const StudyReport& report, const std::vector<double>& position) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  const auto include = [&](const std::optional<double>& v) {
    if (v && std::isfinite(*v)) lo = std::min(lo, *v), hi = std::max(hi, *v);
  };
  for (const auto& window : report.windows) {
    include(window.value);
    include(window.incumbent_value);
  }
  include(report.baseline_value);

  // An objective that spans more than 10x (a 100x improvement) is drawn on a log axis, so the
  // windows after the improvement do not all lie flat on the floor.
  plot.log_scale = std::isfinite(lo) && lo > 0 && hi / lo > 10;
  plot.y_axis = std::isfinite(lo) ? value_axis(lo, hi) : Axis{};
  if (plot.log_scale) {
    plot.y_axis.lo = std::floor(std::log10(lo));
    plot.y_axis.hi = std::ceil(std::log10(hi));
    if (plot.y_axis.hi <= plot.y_axis.lo) plot.y_axis.hi = plot.y_axis.lo + 1;
    plot.y_axis.step = plot.y_axis.hi - plot.y_axis.lo > 8 ? 2 : 1;
  }
  plot.first = position.front();
  plot.last = position.back();
  const double pad = std::max(0.5, (plot.last - plot.first) * 0.02);
  plot.x_lo = plot.first - pad;
  plot.x_hi = plot.last + pad;
}

/// The grid and the value ticks up the left; the window ticks, whole numbers in 1-2-5 steps, along
/// the bottom.
void draw_ticks(std::string& svg, const Plot& plot) {
  const Axis& y_axis = plot.y_axis;
  const double tick_count = (y_axis.hi - y_axis.lo) / y_axis.step;
  const long y_ticks = std::isfinite(tick_count) ? std::lround(std::clamp(tick_count, 0.0, 40.0)) : 0;
  for (long k = 0; k <= y_ticks; ++k) {
    const double v = y_axis.lo + static_cast<double>(k) * y_axis.step;
    const double y = plot.bottom - (v - y_axis.lo) / (y_axis.hi - y_axis.lo) * (plot.bottom - plot.top);
    svg += "<path class=\"grid\" d=\"M" + coord(plot.left) + " " + coord(y) + "H" + coord(plot.right) +
           "\" stroke=\"" + grid_colour + "\" stroke-width=\"1\"/>";
    svg += "<text class=\"tick\" x=\"" + coord(plot.left - 6) + "\" y=\"" + coord(y + 3.5) +
           "\" text-anchor=\"end\" fill=\"" + label_colour + "\">" +
           escape(plot.log_scale ? display_number(std::pow(10.0, v)) : tick_label(v, y_axis)) + "</text>";
  }
  const double step = std::max(1.0, nice_step((plot.last - plot.first) / 8));
  for (double i = std::ceil(plot.first / step) * step; i <= std::floor(plot.last) + 1.0e-9; i += step) {
    const double x = plot.px(i);
    svg += "<path class=\"tick-mark\" d=\"M" + coord(x) + " " + coord(plot.bottom) + "V" + coord(plot.bottom + 4) +
           "\" stroke=\"" + axis_colour + "\" stroke-width=\"1\"/>";
    svg += "<text class=\"tick\" x=\"" + coord(x) + "\" y=\"" + coord(plot.bottom + 16) +
           "\" text-anchor=\"middle\" fill=\"" + label_colour + "\">" + printf_text("%.0f", i) + "</text>";
  }
}

/// The baseline, dashed, and the incumbent after each decision, as a step line.
void draw_lines(std::string& svg, const Plot& plot, const StudyReport& report, const std::vector<double>& position) {
  if (report.baseline_value) {
    const double y = plot.py(*report.baseline_value);
    svg += "<path class=\"baseline\" d=\"M" + coord(plot.left) + " " + coord(y) + "H" + coord(plot.right) +
           "\" fill=\"none\" stroke=\"" + baseline_colour + "\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\">" +
           "<title>baseline " + display_number(report.baseline_value) + "</title></path>";
  }
  std::string d;
  double previous_y = 0;
  for (std::size_t i = 0; i < report.windows.size(); ++i) {
    const auto& window = report.windows[i];
    if (!window.incumbent_value) continue;
    const double x = plot.px(position[i]);
    const double y = plot.py(*window.incumbent_value);
    if (d.empty()) d = "M" + coord(x) + " " + coord(y);
    else if (coord(y) != coord(previous_y)) d += "H" + coord(x) + "V" + coord(y);
    previous_y = y;
  }
  if (!d.empty()) {
    d += "H" + coord(std::min(plot.right, plot.px(plot.last + 0.5)));
    svg += "<path class=\"incumbent\" d=\"" + d + "\" fill=\"none\" stroke=\"" + incumbent_colour +
           "\" stroke-width=\"2\" stroke-linejoin=\"round\"/>";
  }
}

/// One window's marker at (x, y), radius r: its shape and colour say its verdict.
void draw_marker(std::string& svg, const WindowSummary& window, double x, double y, double r) {
  const Style style = verdict_style(window.verdict);
  const bool anomaly = window.anomaly && window.value;
  const std::string common = "class=\"marker " + std::string(style.label) + (window.value ? "" : " no-value") +
                             (anomaly ? " anomaly" : "") +
                             "\" data-window=\"" + std::to_string(window.index) + "\"" +
                             (window.purpose.empty() ? "" : " data-purpose=\"" + escape(window.purpose) + "\"") +
                             (window.value ? "" : " opacity=\"0.5\"");
  const std::string title = "<title>" + marker_title(window) + "</title>";
  if (anomaly) // a ring behind the marker
    svg += "<circle class=\"anomaly-ring\" data-window=\"" + std::to_string(window.index) + "\" cx=\"" + coord(x) +
           "\" cy=\"" + coord(y) + "\" r=\"" + coord(r + 4) + "\" fill=\"none\" stroke=\"" + anomaly_colour +
           "\" stroke-width=\"2\"/>";
  if (window.verdict == "rollback") {
    svg += "<path " + common + " d=\"" + cross_path(x, y, r * 0.9) + "\" fill=\"none\" stroke=\"" + style.colour +
           "\" stroke-width=\"2.5\" stroke-linecap=\"round\">" + title + "</path>";
  } else if (window.verdict == "discard" || window.verdict.empty()) {
    svg += "<circle " + common + " cx=\"" + coord(x) + "\" cy=\"" + coord(y) + "\" r=\"" + coord(r * 0.85) +
           "\" fill=\"#ffffff\" stroke=\"" + style.colour + "\" stroke-width=\"2\">" + title + "</circle>";
  } else {
    svg += "<circle " + common + " cx=\"" + coord(x) + "\" cy=\"" + coord(y) + "\" r=\"" + coord(r) +
           "\" fill=\"" + style.colour + "\" stroke=\"#ffffff\" stroke-width=\"1\">" + title + "</circle>";
  }
}

} // namespace

std::string render_history_svg(const StudyReport& report, int width, int height) {
  Plot plot;
  plot.w = std::clamp(width, 240, 4000);
  plot.h = std::clamp(height, 140, 3000);
  plot.left = 62, plot.right = plot.w - 18, plot.top = 34, plot.bottom = plot.h - 40;

  std::string svg = svg_open(plot);
  draw_legend(svg, report, plot);
  if (report.windows.empty()) {
    draw_frame(svg, plot, report.maximize);
    svg += "<text class=\"empty\" x=\"" + coord((plot.left + plot.right) / 2) + "\" y=\"" +
           coord((plot.top + plot.bottom) / 2) + "\" text-anchor=\"middle\" font-size=\"14\" fill=\"" + label_colour +
           "\">no windows yet</text>";
    svg += "</svg>";
    return svg;
  }

  const auto position = window_positions(report.windows);
  fit_axes(plot, report, position);
  draw_ticks(svg, plot);
  draw_frame(svg, plot, report.maximize);
  draw_lines(svg, plot, report, position);
  const double r = std::clamp((plot.right - plot.left) / static_cast<double>(report.windows.size()) / 3, 2.0, 5.0);
  for (std::size_t i = 0; i < report.windows.size(); ++i) {
    const auto& window = report.windows[i];
    const double y = window.value ? plot.py(*window.value) : plot.bottom; // no value: on the axis, faded
    draw_marker(svg, window, plot.px(position[i]), y, r);
  }
  svg += "</svg>";
  return svg;
}

namespace {

// --- The page ------------------------------------------------------------------------------------

constexpr std::string_view page_style = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1f2937;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 24px 20px 40px; }
header { display: flex; align-items: baseline; gap: 14px; flex-wrap: wrap; margin-bottom: 4px; }
h1 { font-size: 22px; margin: 0; letter-spacing: -0.01em; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: 0.06em; color: #6b7280; margin: 0 0 10px; }
.objective { color: #4b5563; margin: 0 0 16px; }
.objective code { background: #e5e7eb; border-radius: 4px; padding: 1px 5px; }
.pill { display: inline-block; border-radius: 999px; padding: 2px 10px; font-size: 12px; font-weight: 600; }
.state-tuning { background: #dbeafe; color: #1e40af; }
.state-paused { background: #fef3c7; color: #92400e; }
.state-safe-mode { background: #fee2e2; color: #991b1b; }
.state-done { background: #dcfce7; color: #166534; }
.mode { background: #ede9fe; color: #5b21b6; }
.state-detail { color: #6b7280; font-size: 13px; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 10px; padding: 16px 18px; margin-bottom: 16px; }
.chart svg { display: block; width: 100%; height: auto; }
.columns { display: grid; grid-template-columns: 3fr 2fr; gap: 16px; }
.columns .card { margin-bottom: 0; }
@media (max-width: 760px) { .columns { grid-template-columns: 1fr; } }
.columns + .card { margin-top: 16px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #f0f1f3; vertical-align: top; }
th { font-weight: 600; color: #6b7280; font-size: 12px; border-bottom: 1px solid #e5e7eb; }
td.num, th.num { text-align: right; }
tr:last-child td { border-bottom: none; }
td.changed { font-weight: 600; color: #1b6b3a; }
td.reason { color: #4b5563; word-break: break-word; }
.verdict { display: inline-block; min-width: 64px; text-align: center; border-radius: 4px; padding: 0 6px;
  font-size: 12px; font-weight: 600; }
.verdict-promote { background: #dcfce7; color: #166534; }
.verdict-keep { background: #f3f4f6; color: #4b5563; }
.verdict-rollback { background: #fee2e2; color: #991b1b; }
.verdict-discard { background: #fef3c7; color: #92400e; }
.verdict-other { background: #f3f4f6; color: #4b5563; }
ul.constraints { margin: 0; padding-left: 18px; }
.constraint.holds { color: #166534; }
.constraint.broken { color: #991b1b; }
.constraint.unknown { color: #6b7280; }
td.configuration { font-family: ui-monospace, monospace; font-size: 12px; }
.empty-row td { color: #9ca3af; text-align: center; padding: 14px; }
dl.counts { display: grid; grid-template-columns: auto 1fr; gap: 4px 16px; margin: 0; }
dl.counts dt { color: #6b7280; }
dl.counts dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
dl.counts dd.sub, dl.counts dt.sub { font-weight: normal; color: #6b7280; font-size: 13px; }
dl.counts dt.sub { padding-left: 12px; }
td.trend-improving { color: #166534; font-weight: 600; }
td.trend-degrading { color: #991b1b; font-weight: 600; }
td.trend-rising, td.trend-falling { font-weight: 600; }
td.trend-stable, td.trend-too-few-windows { color: #6b7280; }
footer { color: #9ca3af; font-size: 12px; margin-top: 20px; }
)css";

/// A class name for a state or a label: "state-safe-mode", "trend-too-few-windows".
std::string css_class(std::string_view prefix, std::string_view text) {
  std::string out = std::string(prefix) + "-";
  for (const char c : text) out += c == ' ' ? '-' : c;
  return out;
}

std::string verdict_class(std::string_view verdict) {
  if (verdict == "promote" || verdict == "keep" || verdict == "rollback" || verdict == "discard")
    return "verdict-" + std::string(verdict);
  return "verdict-other";
}

std::string param_cell(const std::optional<json::object>& point, const std::string& name, bool changed) {
  if (!point) return "<td>—</td>";
  const auto* value = point->if_contains(name);
  if (value == nullptr) return "<td>—</td>";
  return std::string(changed ? "<td class=\"changed\">" : "<td>") + display_param(*value) + "</td>";
}

bool same_value(const std::optional<json::object>& a, const std::optional<json::object>& b, const std::string& name) {
  const json::value* x = a ? a->if_contains(name) : nullptr;
  const json::value* y = b ? b->if_contains(name) : nullptr;
  if (x == nullptr || y == nullptr) return x == y;
  const auto nx = as_number(*x);
  const auto ny = as_number(*y);
  if (nx && ny) return *nx == *ny;
  return *x == *y;
}

std::string parameters_table(const StudyReport& report, const std::optional<json::object>& applied,
                             std::string_view applied_heading) {
  std::vector<std::string> names;
  const auto add_names = [&](const std::optional<json::object>& point) {
    if (!point) return;
    for (const auto& entry : *point)
      if (std::find(names.begin(), names.end(), entry.key()) == names.end()) names.emplace_back(entry.key());
  };
  add_names(report.baseline);
  add_names(report.incumbent);
  add_names(applied);

  std::string html = "<table class=\"params\"><thead><tr><th>parameter</th><th>baseline</th><th>incumbent</th><th>" +
                     escape(applied_heading) + "</th></tr></thead><tbody>";
  if (names.empty()) html += "<tr class=\"empty-row\"><td colspan=\"4\">no configuration recorded yet</td></tr>";
  for (const auto& name : names) {
    html += "<tr><td>" + escape(name) + "</td>";
    html += param_cell(report.baseline, name, false);
    html += param_cell(report.incumbent, name, report.baseline && !same_value(report.incumbent, report.baseline, name));
    html += param_cell(applied, name, report.incumbent && !same_value(applied, report.incumbent, name));
    html += "</tr>";
  }
  html += "<tr class=\"objective-row\"><td><em>objective</em></td><td>" + display_number(report.baseline_value) +
          "</td><td>" + display_number(report.incumbent_value) + "</td><td></td></tr>";
  html += "</tbody></table>";
  return html;
}

std::string counts_list(const StudyReport& report) {
  const auto& c = report.counts;
  const auto row = [](std::string_view name, std::size_t n, bool sub = false) {
    const char* cls = sub ? " class=\"sub\"" : "";
    return "<dt" + std::string(cls) + ">" + escape(name) + "</dt><dd" + cls + ">" + std::to_string(n) + "</dd>";
  };
  std::string html = "<dl class=\"counts\">";
  html += row("windows", c.windows);
  html += row("promotions", c.promotions);
  html += row("keeps", c.keeps);
  html += row("rollbacks", c.rollbacks);
  html += row("discards", c.discards);
  if (c.extensions > 0) html += row("windows extended", c.extensions);
  html += row("apply failures", c.apply_failures);
  html += row("refusals", c.refusals_total());
  for (const auto& [reason, n] : c.refusals) html += row(reason, n, true);
  if (c.operator_rollbacks > 0) html += row("operator rollbacks", c.operator_rollbacks);
  if (c.restarts > 0) html += row("restarts", c.restarts);
  std::string improvement = "—";
  if (report.improvement)
    improvement = report.baseline_value == 0.0 // a difference, not a fraction
                      ? (*report.improvement > 0 ? "+" : "") + display_number(report.improvement)
                      : display_effect(report.improvement);
  if (report.improvement && report.improvement_low && report.improvement_high && report.baseline_value != 0.0)
    improvement += " [" + display_effect(report.improvement_low) + ", " + display_effect(report.improvement_high) + "]";
  if (report.improvement && !report.improvement_method.empty()) improvement += " (" + report.improvement_method + ")";
  html += "<dt>improvement vs baseline</dt><dd class=\"improvement\">" + escape(improvement) + "</dd>";
  html += "</dl>";
  return html;
}

std::string trends_table(const StudyReport& report) {
  std::string html = "<table class=\"trends\"><thead><tr><th>signal</th><th>trend</th>"
                     "<th class=\"num\">slope / window</th><th class=\"num\">p-value</th>"
                     "<th>anomalous windows</th></tr></thead><tbody>";
  for (const auto& trend : report.trends) {
    std::string anomalies;
    for (const auto index : trend.anomalous_windows)
      anomalies += (anomalies.empty() ? "" : ", ") + std::to_string(index);
    html += "<tr><td>" + (trend.name == "objective" ? "<em>objective</em>" : escape(trend.name)) + "</td>";
    html += "<td class=\"" + escape(css_class("trend", trend.label)) + "\" title=\"over the last " +
            std::to_string(trend.windows_used) + " windows with a value\">" + escape(trend.label) + "</td>";
    html += "<td class=\"num\">" + display_number(trend.trend ? std::optional<double>(trend.trend->slope) : std::nullopt) +
            "</td>";
    html += "<td class=\"num\">" +
            escape(display_p_value(trend.trend ? std::optional<double>(trend.trend->p_value) : std::nullopt)) + "</td>";
    html += "<td>" + (anomalies.empty() ? std::string("—") : anomalies) + "</td></tr>";
  }
  if (report.trends.empty()) html += "<tr class=\"empty-row\"><td colspan=\"5\">no windows yet</td></tr>";
  html += "</tbody></table>";
  return html;
}

// Each constraint and how the best configuration's last window stood against it.
std::string constraints_list(const StudyReport& report) {
  if (report.constraints.empty()) return "<p class=\"empty\">no constraints</p>";
  const WindowSummary* last = nullptr;
  for (auto it = report.windows.rbegin(); it != report.windows.rend() && last == nullptr; ++it)
    if (it->value && report.incumbent && same_point(it->point, *report.incumbent)) last = &*it;
  std::string html = "<ul class=\"constraints\">";
  for (const auto& text : report.constraints) {
    std::string verdict = "not measured yet";
    std::string css = "unknown";
    try {
      const auto constraint = Constraint::parse_constraint(text);
      std::vector<double> values;
      for (const auto& name : constraint.variables()) {
        if (last == nullptr) break;
        const auto found = last->signals.find(name);
        if (found == last->signals.end() || !found->second) break;
        values.push_back(*found->second);
      }
      if (last != nullptr && values.size() == constraint.variables().size()) {
        const double slack = constraint.slack(values);
        if (std::isfinite(slack)) {
          verdict = slack <= 0 ? "holds for the best (" + display_number(constraint.left.evaluate(values)) + ")"
                               : "broken by the best, by " + display_number(slack);
          css = slack <= 0 ? "holds" : "broken";
        }
      }
    } catch (const std::exception&) {
      verdict = "cannot be read";
    }
    html += "<li class=\"constraint " + css + "\"><code>" + escape(text) + "</code> " + escape(verdict) + "</li>";
  }
  return html + "</ul>";
}

std::string decisions_table(const StudyReport& report) {
  std::string html = "<table class=\"decisions\"><thead><tr><th class=\"num\">window</th><th>measured</th>"
                     "<th>configuration</th><th>verdict</th>"
                     "<th class=\"num\">value</th><th class=\"num\">effect</th><th class=\"num\">p-value</th>"
                     "<th>reason</th></tr></thead><tbody>";
  std::size_t shown = 0;
  // Windows are numbered in the order they were measured, every one of them: the baseline is 1,
  // and a re-measurement or a discarded window has a number of its own.
  std::size_t number = report.windows.size() + 1;
  for (auto it = report.windows.rbegin(); it != report.windows.rend() && shown < 20; ++it) {
    --number;
    if (it->verdict.empty()) continue;
    ++shown;
    std::string configuration;
    for (const auto& entry : it->point)
      configuration += (configuration.empty() ? "" : " ") + escape(entry.key()) + "=" + display_param(entry.value());
    html += "<tr><td class=\"num\" title=\"" + escape(display_time(it->time_ms)) + "\">" + std::to_string(number) + "</td>";
    html += "<td>" + escape(it->purpose.empty() ? std::string("—") : it->purpose) + "</td>";
    html += "<td class=\"configuration\">" + configuration + "</td>";
    html += "<td><span class=\"verdict " + verdict_class(it->verdict) + "\">" + escape(it->verdict) + "</span></td>";
    html += "<td class=\"num\">" + display_number(it->value) + "</td>";
    html += "<td class=\"num\">" + escape(display_effect(it->effect)) + "</td>";
    html += "<td class=\"num\">" + escape(display_p_value(it->p_value)) + "</td>";
    html += "<td class=\"reason\">" + escape(it->reason) + "</td></tr>";
  }
  if (shown == 0) html += "<tr class=\"empty-row\"><td colspan=\"8\">no decisions yet</td></tr>";
  html += "</tbody></table>";
  return html;
}

// Recommend mode's advice and the evidence for it: what runs, what to run instead, and how sure.
std::string recommendation_card(const StudyReport& report) {
  const auto& r = *report.recommendation;
  auto point_text = [](const Settings& point) {
    std::string out;
    for (const auto& [name, value] : point) out += (out.empty() ? "" : ", ") + escape(name) + " = " + display_param(value_to_json(value));
    return out;
  };
  const auto windows = [](std::size_t n) { return std::to_string(n) + " window(s)"; };
  const auto* comparison = r.comparison ? &*r.comparison : nullptr;
  std::string html = "<p class=\"recommendation-reason\">" + escape(r.reason.value_or("")) + "</p><table>";
  html += "<tr><th>recommended</th><td>" + (r.point ? point_text(*r.point) : std::string("—")) + "</td><td>" +
          (r.point ? display_number(r.value) + " over " + windows(r.windows) : std::string("— over — window(s)")) + "</td></tr>";
  html += "<tr><th>running</th><td>" + point_text(r.running) + "</td><td>" + display_number(r.running_value) + " over " +
          windows(r.running_windows) + "</td></tr>";
  html += "<tr><th>effect</th><td colspan=\"2\">" +
          (comparison != nullptr ? (comparison->effect >= 0 ? "+" : "") + display_number(comparison->effect * 100) + " %"
                                 : std::string("—")) +
          "</td></tr>";
  html += "<tr><th>confidence</th><td colspan=\"2\">" +
          (comparison != nullptr && comparison->confidence ? display_number(*comparison->confidence * 100) + " %"
                                                           : std::string("— (too few windows)")) +
          "</td></tr>";
  return html + "</table>";
}

std::string render_page(const StudyReport& report, const json::object* live_status) {
  bool live = false;
  std::string mode;
  std::optional<json::object> applied = report.applied;
  std::string applied_heading = "last applied";
  if (live_status != nullptr) {
    live = bool_at(*live_status, "live").value_or(false);
    mode = text_at(*live_status, "mode");
    if (const auto* now = object_at(*live_status, "applied")) {
      applied = *now;
      applied_heading = "applied now";
    }
  }
  if (mode.empty() && !report.enabled) mode = "observe-only";
  if (mode.empty() && report.mode == "recommend") mode = "recommend-only";
  if (mode == "recommend") mode = "recommend-only";

  const std::string state = study_state(report);
  std::string detail;
  if (report.done) {
    detail = report.done_reason.empty() ? "" : "ended: " + report.done_reason;
    if (report.best_value) detail += (detail.empty() ? "" : " · ") + std::string("best ") + display_number(report.best_value);
  } else if (report.safe_mode && !report.safe_mode_reason.empty()) {
    detail = report.safe_mode_reason;
  }

  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  if (live) html += "<meta http-equiv=\"refresh\" content=\"5\">\n";
  html += "<title>trimtab</title>\n<style>";
  html += page_style;
  html += "</style>\n</head>\n<body>\n<main>\n<header><h1>trimtab</h1>";
  html += "<span class=\"pill state " + css_class("state", state) + "\">" + escape(state) + "</span>";
  if (!mode.empty()) html += "<span class=\"pill mode\">" + escape(mode) + "</span>";
  if (!detail.empty()) html += "<span class=\"state-detail\">" + escape(detail) + "</span>";
  html += "</header>\n";
  html += "<p class=\"objective\">" + std::string(report.maximize ? "maximize" : "minimize");
  if (!report.objective_expression.empty()) html += " <code>" + escape(report.objective_expression) + "</code>";
  else html += " the objective";
  html += "</p>\n";

  html += "<section class=\"card chart\"><h2>history</h2>" + render_history_svg(report) + "</section>\n";
  html += "<div class=\"columns\">";
  html += "<section class=\"card\"><h2>parameters</h2>" + parameters_table(report, applied, applied_heading) +
          "</section>";
  html += "<section class=\"card\"><h2>counts</h2>" + counts_list(report) + "</section>";
  html += "</div>\n";
  html += "<section class=\"card\"><h2>constraints</h2>" + constraints_list(report) + "</section>\n";
  if (report.recommendation) html += "<section class=\"card\"><h2>recommendation</h2>" + recommendation_card(report) + "</section>\n";
  html += "<section class=\"card\"><h2>trends</h2>" + trends_table(report) + "</section>\n";
  html += "<section class=\"card\"><h2>last decisions</h2>" + decisions_table(report) + "</section>\n";
  html += "<footer>" + std::to_string(report.records) + " journal records";
  if (report.first_time_ms > 0)
    html += " · " + escape(display_time(report.first_time_ms)) + " to " + escape(display_time(report.last_time_ms));
  if (live) html += " · refreshes every 5 s";
  html += "</footer>\n</main>\n</body>\n</html>\n";
  return html;
}

} // namespace

std::string render_status_page(const StudyReport& report, const json::object& live_status) {
  return render_page(report, &live_status);
}

std::string render_report_html(const StudyReport& report) { return render_page(report, nullptr); }

} // namespace trimtab
