#include <iostream>

#include <boost/program_options/parsers.hpp>

#include "commands.hpp"

namespace trimtab::cli {

namespace po = boost::program_options;

std::optional<int> parse_options(std::string_view command, const std::vector<std::string>& args,
                                 const po::options_description& options, po::variables_map& vm, const char* positional) {
  po::options_description all;
  all.add(options);
  po::positional_options_description positions;
  if (positional != nullptr) {
    all.add_options()(positional, po::value<std::string>());
    positions.add(positional, 1);
  }
  try {
    po::store(po::command_line_parser(args).options(all).positional(positions).run(), vm);
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

std::optional<int> parse_options(std::string_view command, const std::vector<std::string>& args,
                                 const po::options_description& options, po::variables_map& vm) {
  return parse_options(command, args, options, vm, nullptr);
}

} // namespace trimtab::cli
