// trimtab_demo_service: the demo service on its own, for tuning it standalone (`trimtab run` with
// an http adapter on /admin/config) or loading it with wrk.
//
// usage: trimtab_demo_service [--port N] [--rate N] [--port-file PATH]
//
// Serves GET /item/<key>, /metrics and GET/PUT /admin/config on 127.0.0.1 until SIGINT or SIGTERM;
// with --rate, its built-in load generator sends that many requests per second to it.

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include "demo_service.hpp"
#include "load_generator.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  po::options_description options("usage: trimtab_demo_service [options]\n\nOptions");
  options.add_options()("help,h", "show this help")(
      "port", po::value<unsigned short>()->default_value(0), "the port to listen on (0: any free port)")(
      "port-file", po::value<std::string>(), "write the port here once listening")(
      "rate", po::value<double>()->default_value(0), "requests per second of built-in load (0: none)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "trimtab_demo_service: " << e.what() << '\n';
    return 1;
  }
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  try {
    trimtab::demo::ServiceOptions service_options;
    service_options.port = vm["port"].as<unsigned short>();
    trimtab::demo::DemoService service(service_options);
    service.start();
    std::cout << "listening on http://127.0.0.1:" << service.port() << std::endl;
    if (vm.count("port-file")) {
      const auto path = vm["port-file"].as<std::string>();
      std::ofstream(path + ".tmp") << service.port();
      std::filesystem::rename(path + ".tmp", path);
    }
    std::optional<trimtab::demo::LoadGenerator> load;
    if (const auto rate = vm["rate"].as<double>(); rate > 0) {
      trimtab::demo::LoadOptions load_options;
      load_options.port = service.port();
      load_options.rate = rate;
      load.emplace(load_options);
      load->start();
    }
    boost::asio::io_context io;
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([](const boost::system::error_code&, int) {});
    io.run();
    if (load) load->stop();
    service.stop();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "trimtab_demo_service: " << e.what() << '\n';
    return 1;
  }
}
