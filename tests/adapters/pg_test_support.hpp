#pragma once

// Shared by the postgres and pgbouncer adapters' suites, which run inside pg_virtualenv (a throwaway
// PostgreSQL cluster, with PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE set): driving an
// adapter to completion, and a plain blocking libpq connection to check what the server runs with.

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/test/unit_test.hpp>

#include <libpq-fe.h>

#include <trimtab/adapters/adapter.hpp>

#include "adapter_test_support.hpp"

namespace trimtab::pg_test {

namespace asio = boost::asio;
using test::apply_now;
using test::current_now;
using test::in_effect_now;

/// A plain blocking libpq connection (the test's own, not the adapter's).
class PlainConnection {
public:
  /// Connects with `conninfo` and the PG* environment variables.
  explicit PlainConnection(const std::string& conninfo = "") : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string message = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw std::runtime_error("test connection failed: " + message);
    }
  }
  ~PlainConnection() { PQfinish(conn_); }
  PlainConnection(const PlainConnection&) = delete;
  PlainConnection& operator=(const PlainConnection&) = delete;

  /// Runs `sql` (one statement); returns the first row's fields ("" for NULL), or throws.
  std::vector<std::string> row(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    const auto status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      std::string message = PQresultErrorMessage(result);
      PQclear(result);
      throw std::runtime_error(sql + ": " + message);
    }
    std::vector<std::string> fields;
    if (PQntuples(result) > 0)
      for (int i = 0; i < PQnfields(result); ++i) fields.emplace_back(PQgetvalue(result, 0, i));
    PQclear(result);
    return fields;
  }

  std::string value(const std::string& sql) {
    auto fields = row(sql);
    return fields.empty() ? std::string() : fields[0];
  }

  /// Every row's fields ("" for NULL).
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
      std::string message = PQresultErrorMessage(result);
      PQclear(result);
      throw std::runtime_error(sql + ": " + message);
    }
    std::vector<std::vector<std::string>> out;
    for (int row = 0; row < PQntuples(result); ++row) {
      auto& fields = out.emplace_back();
      for (int i = 0; i < PQnfields(result); ++i) fields.emplace_back(PQgetvalue(result, row, i));
    }
    PQclear(result);
    return out;
  }

  /// Every row's first field.
  std::vector<std::string> column(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    std::vector<std::string> values;
    if (PQresultStatus(result) == PGRES_TUPLES_OK)
      for (int i = 0; i < PQntuples(result); ++i) values.emplace_back(PQgetvalue(result, i, 0));
    PQclear(result);
    return values;
  }

private:
  PGconn* conn_;
};

/// A port on 127.0.0.1 where nothing listens (bound, then closed).
inline std::uint16_t closed_tcp_port(asio::io_context& io) {
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

inline long long milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

} // namespace trimtab::pg_test
