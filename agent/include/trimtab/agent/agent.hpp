#pragma once

// The agent: the tuning loop (core's TuningLoop) carried out on one executor, with a scraper, the
// adapters, the journal and the control server.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/json/object.hpp>

#include <trimtab/adapters/adapter.hpp>
#include <trimtab/agent/study_fold.hpp>
#include <trimtab/config/tuning_config.hpp>
#include <trimtab/core/tuning_loop.hpp>

namespace trimtab {

enum class LogLevel { debug, info, warning, error };

/// Where the agent's log lines go: a host plugs in its own logger; the standalone agent writes
/// lines to stderr. Unset: nothing is logged.
using LogSink = std::function<void(LogLevel, std::string_view)>;

/// What a host hears about, as it happens: each is a journal record the agent has just written.
enum class AgentEventKind {
  proposal,          ///< the solver proposed a candidate (before any guardrail or veto)
  applied,           ///< a configuration is in force (record "purpose": candidate, rollback, …)
  refused,           ///< a guardrail, the kill switch, recommend mode or the host's veto said no ("reason")
  promoted,          ///< a candidate became the incumbent
  rolled_back,       ///< a window was rolled back (constraint, regression, no data)
  confirming,        ///< a candidate looked better and switchback pairs now confirm it
  safe_mode_entered, ///< only rollbacks from now on ("reason")
  safe_mode_left,
  mode_changed,      ///< an operator switched between apply and recommend ("mode")
  recommendation,    ///< recommend mode's advice, renewed after each window
  claimed,           ///< the study ended and claimed its improvement over the baseline (a `claim` record)
  study_done,        ///< the study ended on its best configuration (a `done` record)
};
/// "proposal", "applied", "refused", "promoted", "rolled_back", …
[[nodiscard]] const char* event_name(AgentEventKind kind) noexcept;

struct AgentEvent {
  AgentEventKind kind;
  /// The journal record, with its seq and time (docs/journal.md; encode_line gives its JSON).
  const JournalLine& record;
};

/// Called on the agent's executor after the record is durable; it must not block, and must not
/// call back into the agent (post to the executor to do so).
using EventHandler = std::function<void(const AgentEvent&)>;

struct AgentOptions {
  LogSink log;
  /// Serve /metrics, /status, / and the operator commands on config.control.listen.
  bool control_server = true;
  /// What the service runs with after stop(), set before async_run completes: the last known good
  /// configuration (so a half-measured candidate is not left in force), the baseline found at the
  /// first start, or whatever is applied at that moment; TuningLoop::on_stop says when it is not
  /// applied.
  using OnExit = StopTarget;
  OnExit on_exit = OnExit::last_known_good;
  /// Called once when the agent is up: the journal replayed, the running configuration read and
  /// the control server listening, just before tuning starts (a service manager's "ready").
  std::function<void()> on_ready;
};

/// The tuning agent. It runs on the executor it is given and never owns the io_context: every
/// member function must be called on the thread that runs that executor.
///
///   trimtab::Agent agent(io.get_executor(), trimtab::load_tuning_config("tuning.yaml"));
///   agent.add_adapter(std::make_unique<MyPoolAdapter>(...));   // one per config adapter
///   agent.async_run([](std::exception_ptr e) { ... });
///   ... agent.stop();
///
/// The Agent must outlive the completion of async_run.
class Agent {
public:
  /// Throws std::invalid_argument when the config cannot be tuned as written (the solver, the
  /// policy or the signals do not fit).
  Agent(boost::asio::any_io_executor executor, TuningConfig config, AgentOptions options = {});
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  /// Registers the adapter for one entry of config.adapters (matched by name; its params must be
  /// the entry's). Throws std::invalid_argument for an unknown name, a second adapter for the
  /// same entry, or params that differ. Call before async_run.
  void add_adapter(std::unique_ptr<Adapter> adapter);

  /// Reads metrics from the host itself instead of scraping the first source of target.metrics:
  /// the function returns an exposition (Prometheus text, or JSON for format: json) each scrape
  /// interval. Other sources are still scraped.
  void set_metrics_source(std::function<std::string()> source);

  /// Host events: proposals, applies, refusals, promotions, rollbacks, safe mode, mode switches,
  /// recommendations (AgentEventKind). Call before async_run; one handler.
  void set_event_handler(EventHandler handler);

  /// The host's veto on candidates: return a reason to refuse one (a change freeze, a
  /// deployment under way), nothing to let it go. Journaled as a refusal "host_veto" with the
  /// reason; rollbacks and restores are never asked. Call before async_run.
  void set_veto(Veto veto);

  /// Runs until stop(): opens and replays the journal, reads the running configuration from the
  /// adapters, then scrapes, tunes and serves the control server. Completes with nullptr after a
  /// stop(), or with the exception that ended the run (JournalError for a corrupt journal,
  /// std::runtime_error naming what failed at start-up). Completes on the agent's executor.
  template <typename CompletionToken>
  auto async_run(CompletionToken&& token) {
    return boost::asio::co_spawn(executor_, run(), std::forward<CompletionToken>(token));
  }

  /// Ends the run: timers and the control server stop, an apply under way finishes first, and
  /// async_run completes. Safe to call more than once, and from a signal handler's completion.
  void stop();

  /// Changes what stop() leaves the service with (AgentOptions::on_exit), before or after stop():
  /// an agent that stops only to start again at once (a reload) leaves what is applied.
  void set_on_exit(AgentOptions::OnExit what) noexcept;

  /// An operator command, as the control server would deliver it.
  [[nodiscard]] CommandOutcome command(OperatorCommand command, const std::string& source);

  /// What /status answers: phase, applied and incumbent configurations, signals of the last
  /// window, counters.
  [[nodiscard]] boost::json::object status() const;
  /// What /metrics answers: the agent's own metrics, Prometheus text 0.0.4.
  [[nodiscard]] std::string metrics_text() const;
  /// What / answers: the study's history as an HTML page with an SVG chart.
  [[nodiscard]] std::string status_page() const;
  /// The most recent journal records (at most recent_records_kept, replayed and new), with their
  /// seq: follow them by seq. The whole study lives in the journal and in study_report().
  [[nodiscard]] const std::deque<JournalLine>& records() const noexcept;
  static constexpr std::size_t recent_records_kept = 512;
  /// The study so far, folded from every record as it was written (counts, trends, the last
  /// study_windows_kept windows: what the status page draws; `trimtab report` draws them all).
  static constexpr std::size_t study_windows_kept = 500;
  [[nodiscard]] StudyReport study_report() const;
  /// True once the study is done and its best is being guarded (docs/verdicts.md).
  [[nodiscard]] bool guarding_after_study() const;
  /// The control server's port once running (useful with listen port 0), else 0.
  [[nodiscard]] unsigned short control_port() const noexcept;
  [[nodiscard]] const TuningLoop& loop() const noexcept;

private:
  struct State;
  boost::asio::awaitable<void> run();

  boost::asio::any_io_executor executor_;
  std::unique_ptr<State> state_;
};

} // namespace trimtab
