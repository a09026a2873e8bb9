#include "service_metrics_redis.hpp"

#include <array>
#include <stdexcept>

#include <trimtab/adapters/adapter_error.hpp>
#include <trimtab/core/did_you_mean.hpp>

#include "metrics_text.hpp"
#include "redis_connection.hpp"
#include "ignore_gcc_coroutine_false_positive.hpp"

namespace trimtab {
namespace {

namespace asio = boost::asio;
using metrics_text::Labels;

struct Field {
  std::string_view field;
  std::string_view series;
  std::string_view type;
  std::string_view help;
};

// INFO's plain fields and the series they become (the names the Prometheus redis_exporter gives them).
constexpr std::array<Field, 17> fields{{
    {"keyspace_hits", "redis_keyspace_hits_total", "counter", "Lookups of keys that were there."},
    {"keyspace_misses", "redis_keyspace_misses_total", "counter", "Lookups of keys that were not there."},
    {"evicted_keys", "redis_evicted_keys_total", "counter", "Keys evicted to stay under maxmemory."},
    {"expired_keys", "redis_expired_keys_total", "counter", "Keys that expired."},
    {"total_commands_processed", "redis_commands_processed_total", "counter", "Commands run."},
    {"total_connections_received", "redis_connections_received_total", "counter", "Connections accepted."},
    {"rejected_connections", "redis_rejected_connections_total", "counter", "Connections refused (maxclients)."},
    {"total_net_input_bytes", "redis_net_input_bytes_total", "counter", "Bytes read from the network."},
    {"total_net_output_bytes", "redis_net_output_bytes_total", "counter", "Bytes written to the network."},
    {"used_memory", "redis_memory_used_bytes", "gauge", "Memory Redis has allocated."},
    {"used_memory_rss", "redis_memory_used_rss_bytes", "gauge", "Memory the system gave Redis (RSS)."},
    {"maxmemory", "redis_memory_max_bytes", "gauge", "The maxmemory setting (0: no limit)."},
    {"mem_fragmentation_ratio", "redis_mem_fragmentation_ratio", "gauge", "RSS over used memory."},
    {"connected_clients", "redis_connected_clients", "gauge", "Clients connected."},
    {"blocked_clients", "redis_blocked_clients", "gauge", "Clients blocked in a blocking command."},
    {"instantaneous_ops_per_sec", "redis_instantaneous_ops_per_sec", "gauge", "Redis's own recent commands per second."},
    {"uptime_in_seconds", "redis_uptime_in_seconds", "gauge", "Seconds since Redis started."},
}};

// "a=1,b=2" as pairs.
std::vector<std::pair<std::string_view, std::string_view>> pairs_of(std::string_view text) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto part = text.substr(0, comma);
    const auto equals = part.find('=');
    if (equals != std::string_view::npos) out.emplace_back(part.substr(0, equals), part.substr(equals + 1));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

class RedisStatistics final : public ServiceMetrics {
public:
  RedisStatistics(const std::string& name, const std::map<std::string, std::string>& options,
                  std::chrono::milliseconds timeout) {
    server_.who = "metrics source '" + name + "'";
    server_.address = "127.0.0.1:6379";
    server_.timeout = timeout;
    const auto fail = [&](const std::string& what) { throw std::invalid_argument(server_.who + ": " + what); };
    static constexpr std::array<std::string_view, 4> keys{"address", "username", "password_env", "password_file"};
    for (const auto& [key, value] : options) {
      if (key == "address") server_.address = value;
      else if (key == "username") server_.username = value;
      else if (key != "password_env" && key != "password_file")
        fail("unknown option '" + key + "'" + did_you_mean(key, keys) +
             " (format redis takes address, username, password_env and password_file)");
    }
    if (timeout.count() <= 0) fail("the timeout must be positive");
    auto endpoint = redis::parse_address(server_.address);
    if (const auto* problem = std::get_if<std::string>(&endpoint)) fail("option 'address': '" + server_.address + "': " + *problem);
    server_.endpoint = std::get<redis::Endpoint>(std::move(endpoint));
    server_.password = redis::read_password(server_.who, options);
    if (!server_.username.empty() && server_.password.empty())
      fail("option 'username' needs a password: give password_env or password_file");
  }

  asio::awaitable<ServiceMetricsReading> read(asio::any_io_executor executor) const override {
    redis::Connection connection(executor, server_);
    const auto failed = [](AdapterResult result) { return ServiceMetricsReading{result.error, std::move(result.message), {}}; };
    if (auto opened = co_await connection.open(); !opened) co_return failed(std::move(opened));
    const std::array<std::string, 2> command{"INFO", "all"};
    if (auto sent = co_await connection.send(resp::encode_command(command), "INFO all"); !sent) co_return failed(std::move(sent));
    resp::Reply reply;
    if (auto got = co_await connection.receive(reply, "INFO all"); !got) co_return failed(std::move(got));
    if (reply.is_error())
      co_return failed(server_.failure(AdapterError::server_error, "INFO all: " + server_.quote(reply.text) +
                                                                       (reply.text.starts_with("NOAUTH") && server_.password.empty()
                                                                            ? " (give the source password_env or password_file)"
                                                                            : "")));
    if (reply.type != resp::Type::bulk_string)
      co_return failed(server_.failure(AdapterError::bad_response, "INFO all: expected text, got " + connection.describe(reply)));
    co_return ServiceMetricsReading{{}, {}, redis_info_to_prometheus(reply.text)};
  }

private:
  redis::Server server_;
};

} // namespace

std::string redis_info_to_prometheus(std::string_view info) {
  metrics_text::Writer out;
  while (!info.empty()) {
    const auto end = info.find('\n');
    auto line = info.substr(0, end);
    info.remove_prefix(end == std::string_view::npos ? info.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto colon = line.find(':');
    if (line.empty() || line.front() == '#' || colon == std::string_view::npos) continue;
    const auto key = line.substr(0, colon), value = line.substr(colon + 1);
    if (key.starts_with("cmdstat_")) {
      const Labels labels{{"cmd", std::string(key.substr(8))}};
      for (const auto& [name, number] : pairs_of(value)) {
        const auto parsed = metrics_text::number(number);
        if (!parsed) continue;
        if (name == "calls") out.add("redis_commands_total", "counter", "Calls of each command.", labels, *parsed);
        else if (name == "usec")
          out.add("redis_commands_duration_seconds_total", "counter", "Time spent in each command.", labels, *parsed * 1e-6);
        else if (name == "rejected_calls")
          out.add("redis_commands_rejected_calls_total", "counter", "Calls refused before running.", labels, *parsed);
        else if (name == "failed_calls")
          out.add("redis_commands_failed_calls_total", "counter", "Calls that failed while running.", labels, *parsed);
      }
    } else if (key.starts_with("latency_percentiles_usec_")) {
      const std::string command(key.substr(25));
      for (const auto& [name, number] : pairs_of(value)) {
        const auto parsed = metrics_text::number(number);
        if (!parsed || !name.starts_with("p")) continue;
        const auto percentile = metrics_text::number(name.substr(1));
        if (!percentile) continue;
        char q[32];
        const auto [q_end, ec] = std::to_chars(q, q + sizeof q, *percentile / 100.0);
        out.add("redis_latency_percentiles_usec", "summary",
                "Each command's latency percentiles since start or CONFIG RESETSTAT, in microseconds.",
                {{"cmd", command}, {"quantile", std::string(q, ec == std::errc{} ? q_end : q)}}, *parsed);
      }
    } else if (key.size() > 2 && key.starts_with("db") && key.substr(2).find_first_not_of("0123456789") == std::string_view::npos) {
      const Labels labels{{"db", std::string(key)}};
      for (const auto& [name, number] : pairs_of(value)) {
        const auto parsed = metrics_text::number(number);
        if (!parsed) continue;
        if (name == "keys") out.add("redis_db_keys", "gauge", "Keys in each database.", labels, *parsed);
        else if (name == "expires")
          out.add("redis_db_keys_expiring", "gauge", "Keys with an expiry in each database.", labels, *parsed);
      }
    } else {
      for (const auto& field : fields)
        if (key == field.field)
          if (const auto parsed = metrics_text::number(value)) out.add(field.series, field.type, field.help, {}, *parsed);
    }
  }
  return out.text();
}

std::unique_ptr<ServiceMetrics> make_redis_metrics(const std::string& name, const std::map<std::string, std::string>& options,
                                                   std::chrono::milliseconds timeout) {
  return std::make_unique<RedisStatistics>(name, options, timeout);
}

} // namespace trimtab
