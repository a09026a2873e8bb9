#pragma once

// A redis-server of a test's own on loopback, for the suites that speak to a real Redis (the
// redis adapter, the redis metrics source).

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include "test_http_server.hpp" // closed_port

namespace trimtab::redis_test {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using asio::ip::tcp;
using namespace std::chrono_literals;

inline std::uint16_t free_port() {
  asio::io_context io;
  return test::closed_port(io);
}

// The absolute path of `program` on PATH (resolved before fork: execv needs no search then).
inline std::string find_program(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    const auto end = std::min(dirs.find(':', start), dirs.size());
    const auto candidate = dirs.substr(start, end - start) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  throw std::runtime_error(program + " is not on PATH (apt-get install redis-server redis-tools)");
}

// What a command prints on stdout; the test fails when it exits with a failure.
inline std::string output_of(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  BOOST_REQUIRE(pipe != nullptr);
  std::array<char, 4096> chunk;
  while (const auto n = std::fread(chunk.data(), 1, chunk.size(), pipe)) out.append(chunk.data(), n);
  const int status = ::pclose(pipe);
  BOOST_REQUIRE_MESSAGE(status == 0, command << " failed: " << out);
  return out;
}

/// A redis-server of its own on 127.0.0.1: no persistence, a private directory, stopped (SIGTERM,
/// then SIGKILL) when the object goes, whether the test passed or not. It runs in the foreground as
/// our child with PR_SET_PDEATHSIG, so it dies even when this process is killed (a CTest timeout).
class RedisServer {
public:
  explicit RedisServer(std::vector<std::string> extra = {}) {
    const auto program = find_program("redis-server");
    char pattern[] = "/tmp/trimtab-redis-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
    dir_ = pattern;
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = free_port();
      std::vector<std::string> args{program,        "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                    "--save",       "",       "--appendonly",        "no",     "--daemonize",
                                    "no",           "--dir",  dir_.string(),         "--logfile", (dir_ / "redis.log").string(),
                                    "--maxmemory",  "16mb",   "--maxmemory-policy",  "allkeys-lru"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      const pid_t parent = ::getpid();
      pid_ = ::fork();
      BOOST_REQUIRE(pid_ >= 0);
      if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(1);
        ::execv(argv[0], argv.data());
        ::_exit(127);
      }
      if (wait_until_ready()) return;
      stop();
    }
    BOOST_FAIL("redis-server did not start; its log: " << log());
  }

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  ~RedisServer() {
    stop();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] const fs::path& dir() const { return dir_; }

  /// Runs redis-cli against this server (a connection of its own, not the adapter's) and returns
  /// its output lines.
  [[nodiscard]] std::vector<std::string> cli(const std::string& arguments, const std::string& auth = "") const {
    const std::string command = "redis-cli -p " + std::to_string(port_) + (auth.empty() ? "" : " --no-auth-warning " + auth) +
                                " " + arguments + " 2>&1";
    std::vector<std::string> lines;
    std::string out = output_of(command);
    for (std::size_t start = 0; start < out.size();) {
      const auto end = std::min(out.find('\n', start), out.size());
      lines.push_back(out.substr(start, end - start));
      start = end + 1;
    }
    return lines;
  }

  /// CONFIG GET `name` through redis-cli.
  [[nodiscard]] std::string config(const std::string& name, const std::string& auth = "") const {
    const auto lines = cli("CONFIG GET " + name, auth);
    BOOST_REQUIRE_MESSAGE(lines.size() == 2u, "CONFIG GET " << name << " answered " << lines.size() << " lines");
    return lines[1];
  }

  [[nodiscard]] std::string log() const {
    std::ifstream in(dir_ / "redis.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

private:
  fs::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;

  // True once the server answers PING (+PONG, or -NOAUTH when it wants a password).
  bool wait_until_ready() {
    asio::io_context io;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false; // exited: the port was taken, say
      }
      boost::system::error_code ec;
      tcp::socket socket(io);
      socket.connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
      if (!ec) {
        const std::string ping = "*1\r\n$4\r\nPING\r\n";
        asio::write(socket, asio::buffer(ping), ec);
        std::array<char, 1> first{};
        if (!ec) asio::read(socket, asio::buffer(first), ec);
        if (!ec && (first[0] == '+' || first[0] == '-')) return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 250; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(20ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
};

} // namespace trimtab::redis_test
