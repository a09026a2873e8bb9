#pragma once

#include <string>

#include <boost/json/object.hpp>

namespace trimtab {

/// An agent's /status document as a few readable lines for `trimtab status`: phase and mode, what
/// runs and the best known, windows against the budget, the improvement claimed or as measured,
/// the last signals, refusals and scrape health. `trimtab status --json` prints the document.
[[nodiscard]] std::string status_summary(const boost::json::object& status);

} // namespace trimtab
