// trimtab report STATE_DIR: the study's HTML report, offline, from its journal.

#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json/parse.hpp>

#include <trimtab/agent/journal.hpp>
#include <trimtab/agent/study_fold.hpp>
#include <trimtab/agent/study_report_html.hpp>

#include "commands.hpp"

namespace trimtab::cli {

int report_command(const std::vector<std::string>& args) {
  if (args.size() == 1 && (args[0] == "-h" || args[0] == "--help")) {
    std::cout << "usage: trimtab report STATE_DIR [OUT.html]\n\n"
                 "Writes the study's report (history chart, parameters, decisions) from the journal in\n"
                 "STATE_DIR to OUT.html (default STATE_DIR/report.html), reading the journal only: it is\n"
                 "safe while an agent runs.\n";
    return 0;
  }
  if (args.empty() || args.size() > 2) {
    std::cerr << "trimtab report: expected a state directory (see trimtab report --help)\n";
    return 1;
  }
  const std::filesystem::path dir = args[0];
  const auto out_path = args.size() == 2 ? std::filesystem::path(args[1]) : dir / "report.html";
  std::ifstream in(dir / "journal.jsonl");
  if (!in) {
    std::cerr << "trimtab report: cannot read " << (dir / "journal.jsonl").string() << '\n';
    return 3;
  }
  // Read-only: a torn last line (an agent writing right now, or a crash) is skipped, not cut.
  std::vector<boost::json::object> records;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    boost::system::error_code ec;
    auto value = boost::json::parse(line, ec);
    if (ec || !value.is_object()) {
      if (in.peek() == std::char_traits<char>::eof()) break;
      std::cerr << "trimtab report: " << (dir / "journal.jsonl").string() << ":" << number << ": not a JSON object\n";
      return 3;
    }
    records.push_back(std::move(value.as_object()));
  }
  const auto html = render_report_html(study_report_from_journal(records));
  std::ofstream out(out_path);
  out << html;
  if (!out) {
    std::cerr << "trimtab report: cannot write " << out_path.string() << '\n';
    return 3;
  }
  std::cout << out_path.string() << '\n';
  return 0;
}

} // namespace trimtab::cli
