#include <iostream>

#include <boost/program_options/parsers.hpp>

#include "commands.hpp"

namespace trimtab::cli {

namespace po = boost::program_options;

std::optional<int> parse_options(std::string_view command, const std::vector<std::string>& args,
                                 const po::options_description& options, po::variables_map& vm) {
  try {
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "trimtab " << command << ": " << e.what() << "\n(see trimtab " << command << " --help)\n";
    return 1;
  }
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  return std::nullopt;
}

} // namespace trimtab::cli
