#pragma once

// A PgBouncer of a test's own, in front of pg_virtualenv's throwaway cluster: for the suites that
// speak to a real PgBouncer (the pgbouncer adapter, the pgbouncer metrics source). It runs as the
// postgres user (PgBouncer refuses to run as root) on a free port, and stops when the object goes.

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>

#include <trimtab/adapters/pgbouncer_adapter.hpp>

#include "pg_test_support.hpp"

namespace trimtab::pg_test {

using namespace std::chrono_literals;

inline constexpr const char* admin_password = "Adm1n-pa55word";

inline std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// One PgBouncer, with md5 authentication for its admin user trimtab_admin, pooling the cluster's
// postgres database.
struct Bouncer {
  std::filesystem::path dir;
  std::uint16_t port = 0;

  Bouncer() {
    std::string pattern = (std::filesystem::temp_directory_path() / "trimtab-pgbouncer-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    dir = pattern;
    {
      asio::io_context io;
      port = closed_tcp_port(io);
    }
    const auto host = environment("PGHOST").empty() || environment("PGHOST")[0] == '/' ? "127.0.0.1" : environment("PGHOST");
    std::ofstream(dir / "users.txt") << "\"trimtab_admin\" \"" << admin_password << "\"\n"
                                     << "\"" << environment("PGUSER") << "\" \"" << environment("PGPASSWORD") << "\"\n";
    std::ofstream(dir / "pgbouncer.ini")
        << "[databases]\n"
        << "postgres = host=" << host << " port=" << environment("PGPORT") << " user=" << environment("PGUSER")
        << " password=" << environment("PGPASSWORD") << " dbname=postgres\n"
        << "[pgbouncer]\n"
        << "listen_addr = 127.0.0.1\n"
        << "listen_port = " << port << "\n"
        << "unix_socket_dir =\n"
        << "auth_type = md5\n"
        << "auth_file = " << (dir / "users.txt").string() << "\n"
        << "admin_users = trimtab_admin\n"
        << "pool_mode = transaction\n"
        << "logfile = " << (dir / "pgbouncer.log").string() << "\n"
        << "pidfile = " << (dir / "pgbouncer.pid").string() << "\n";
    if (const auto* user = ::getpwnam("postgres"); user && ::geteuid() == 0)
      for (const auto& path : {dir, dir / "users.txt", dir / "pgbouncer.ini"})
        if (::chown(path.c_str(), user->pw_uid, user->pw_gid) != 0) throw std::runtime_error("chown failed");
    const std::string run_as = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
    const auto command = run_as + "pgbouncer -d " + (dir / "pgbouncer.ini").string();
    if (std::system(command.c_str()) != 0) {
      std::filesystem::remove_all(dir);
      throw std::runtime_error("could not start pgbouncer: " + command);
    }
    // Up when the admin console answers.
    for (int i = 0; i < 100; ++i) {
      try {
        PlainConnection console(console_conninfo());
        return;
      } catch (const std::runtime_error&) {
        std::this_thread::sleep_for(50ms);
      }
    }
    stop();
    throw std::runtime_error("pgbouncer did not come up");
  }

  ~Bouncer() { stop(); }

  void stop() {
    std::ifstream pid_file(dir / "pgbouncer.pid");
    pid_t pid = 0;
    if (pid_file >> pid && pid > 0) {
      ::kill(pid, SIGTERM);
      for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(20ms);
      if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  [[nodiscard]] std::string dsn() const { return "host=127.0.0.1 port=" + std::to_string(port) + " user=trimtab_admin"; }

  [[nodiscard]] std::string console_conninfo() const {
    return dsn() + " dbname=pgbouncer password=" + admin_password;
  }

  // SHOW CONFIG's value of `key`, over the test's own connection.
  [[nodiscard]] std::string config(const std::string& key) const {
    PlainConnection console(console_conninfo());
    for (const auto& row : console.rows("SHOW CONFIG"))
      if (!row.empty() && row[0] == key) return row.at(1);
    return "(none)";
  }

  // The server connections of the postgres database's pools, as SHOW POOLS counts them.
  [[nodiscard]] int server_connections() const {
    PlainConnection console(console_conninfo());
    int servers = 0;
    for (const auto& row : console.rows("SHOW POOLS"))
      if (!row.empty() && row[0] == "postgres")
        for (const int column : {6, 7, 8, 9, 10, 11, 12}) // sv_active … sv_login in PgBouncer 1.18
          servers += std::stoi(row.at(static_cast<std::size_t>(column)));
    return servers;
  }

  [[nodiscard]] PgBouncerAdapterOptions options() const {
    ::setenv("TRIMTAB_TEST_BOUNCER_PASSWORD", admin_password, 1);
    PgBouncerAdapterOptions options;
    options.dsn = dsn();
    options.password_env = "TRIMTAB_TEST_BOUNCER_PASSWORD";
    return options;
  }
};

} // namespace trimtab::pg_test
