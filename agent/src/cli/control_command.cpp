// trimtab status | pause | resume | rollback | recommend | apply: talking to a running agent's
// control server.

#include <filesystem>
#include <iostream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/program_options.hpp>

#include <trimtab/adapters/http_client.hpp>
#include <trimtab/agent/control_token.hpp>
#include <trimtab/config/config_error.hpp>
#include <trimtab/config/tuning_config.hpp>
#include <trimtab/core/json_text.hpp>

#include <trimtab/agent/status_text.hpp>

#include "commands.hpp"

namespace trimtab::cli {

namespace po = boost::program_options;

int control_command(const std::string& action, const std::vector<std::string>& args) {
  const bool is_status = action == "status";
  po::options_description options("usage: trimtab " + action + " TUNING.yaml [--control HOST:PORT]\n\n" +
                                  (is_status ? std::string("Prints a running agent's /status.")
                                             : "Asks a running agent to " + action +
                                                   ", with the bearer token from control.token_file.") +
                                  "\n\nOptions");
  options.add_options()("help,h", "show this help")("control", po::value<std::string>(),
                                                    "the agent's control address (default: control.listen)");
  if (is_status) options.add_options()("json", "print /status as it comes (JSON), not the summary");
  po::variables_map vm;
  if (auto done = parse_options(action, args, options, vm, "config")) return *done;
  if (!vm.count("config")) {
    std::cerr << "trimtab " << action << ": expected the agent's tuning config (see trimtab " << action << " --help)\n";
    return 1;
  }
  HttpRequest request;
  try {
    const auto config = load_tuning_config(vm["config"].as<std::string>());
    const auto address = vm.count("control") ? vm["control"].as<std::string>() : config.control.listen;
    request.url = "http://" + address + "/" + (is_status ? std::string("status") : action);
    request.method = is_status ? "GET" : "POST";
    if (!is_status) {
      if (config.control.token_file.empty()) {
        std::cerr << "trimtab " << action << ": the config has no control.token_file, so the agent accepts no commands\n";
        return 1;
      }
      std::string error;
      const auto token = read_token_file(config.control.token_file, error);
      if (!token) {
        std::cerr << "trimtab " << action << ": " << error << '\n';
        if (!std::filesystem::exists(config.control.token_file))
          std::cerr << "  (start the agent with `trimtab run " << vm["config"].as<std::string>()
                    << " --create-token` to create it)\n";
        return 1;
      }
      request.headers.emplace_back("Authorization", "Bearer " + *token);
    }
  } catch (const ConfigError& e) {
    std::cerr << e.what() << '\n';
    return 2;
  }
  boost::asio::io_context io;
  HttpResponse response;
  boost::asio::co_spawn(io, http_request(io.get_executor(), request), [&](std::exception_ptr, HttpResponse r) {
    response = std::move(r);
  });
  io.run();
  if (response.error) {
    std::cerr << "trimtab " << action << ": " << response.message << '\n';
    return 3;
  }
  boost::system::error_code ec;
  const auto json = boost::json::parse(response.body, ec);
  if (is_status) {
    if (ec || !json.is_object() || vm.count("json")) std::cout << (ec ? response.body : to_json_text(json)) << '\n';
    else std::cout << status_summary(json.as_object());
  } else if (!ec && json.is_object() && json.as_object().contains("message")) {
    std::cout << json.as_object().at("message").as_string().c_str() << '\n';
  } else {
    std::cout << response.body << '\n';
  }
  if (response.status >= 200 && response.status < 300) return 0;
  std::cerr << "trimtab " << action << ": the agent answered HTTP " << response.status << '\n';
  return 4;
}

} // namespace trimtab::cli
