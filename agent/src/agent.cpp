#include <trimtab/agent/agent.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <fstream>
#include <set>
#include <stdexcept>

#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <trimtab/agent/control_server.hpp>
#include <trimtab/agent/control_token.hpp>
#include <trimtab/agent/exposition_writer.hpp>
#include <trimtab/agent/journal.hpp>
#include <trimtab/agent/metrics_sources.hpp>
#include <trimtab/agent/solve_session.hpp>
#include <trimtab/agent/study_fold.hpp>
#include <trimtab/agent/study_report_html.hpp>
#include <trimtab/core/apply_transaction.hpp>
#include <trimtab/core/compaction_trigger.hpp>
#include <trimtab/core/in_effect_wait.hpp>
#include <trimtab/core/journal_codec.hpp>
#include <trimtab/core/journal_compaction.hpp>
#include <trimtab/core/json_text.hpp>
#include <trimtab/core/make_solver.hpp>
#include <trimtab/core/overloaded.hpp>
#include <trimtab/core/param_owners.hpp>
#include <trimtab/core/point_json.hpp>
#include <trimtab/core/running_config.hpp>

#include "record_log_line.hpp"

namespace trimtab {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

std::int64_t unix_ms(TimePoint t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

double seconds_since_epoch(TimePoint t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

} // namespace

// The event a host hears of for a record, if any.
std::optional<AgentEventKind> event_kind(const JournalRecord& record) {
  using Kind = std::optional<AgentEventKind>;
  return std::visit(detail::overloaded{
                        [](const ProposalRecord&) { return Kind(AgentEventKind::proposal); },
                        [](const AppliedRecord&) { return Kind(AgentEventKind::applied); },
                        [](const RefusalRecord&) { return Kind(AgentEventKind::refused); },
                        [](const DecisionRecord& r) {
                          switch (r.verdict) {
                          case DecisionVerdict::promote: return Kind(AgentEventKind::promoted);
                          case DecisionVerdict::rollback: return Kind(AgentEventKind::rolled_back);
                          case DecisionVerdict::confirm: return Kind(AgentEventKind::confirming);
                          default: return Kind();
                          }
                        },
                        [](const SafeModeRecord& r) {
                          return Kind(r.entered ? AgentEventKind::safe_mode_entered : AgentEventKind::safe_mode_left);
                        },
                        [](const ModeRecord&) { return Kind(AgentEventKind::mode_changed); },
                        [](const RecommendationRecord&) { return Kind(AgentEventKind::recommendation); },
                        [](const ClaimRecord&) { return Kind(AgentEventKind::claimed); },
                        [](const DoneRecord&) { return Kind(AgentEventKind::study_done); },
                        [](const auto&) { return Kind(); },
                    },
                    record);
}

struct Agent::State {
  State(asio::any_io_executor executor, TuningConfig config_in, AgentOptions options_in)
      : config(std::move(config_in)), options(std::move(options_in)), wake_timer(executor), work_signal(executor),
        scrape_timer(executor), loops_done(executor), sources(config.target, config.policy.signals), in_effect_timer(executor) {
    loop = std::make_unique<TuningLoop>(
        make_solver(config.solver.kind, config.space, SolverOptions{config.policy.direction, config.solver.seed}),
        config.policy);
    wake_timer.expires_at(asio::steady_timer::time_point::max());
    work_signal.expires_at(asio::steady_timer::time_point::max());
    loops_done.expires_at(asio::steady_timer::time_point::max());
  }

  TuningConfig config;
  AgentOptions options;
  std::unique_ptr<TuningLoop> loop;
  std::vector<std::unique_ptr<Adapter>> adapters; // in config.adapters order once running
  EventHandler on_event;

  std::optional<Journal> journal;
  // The recent records, for hosts that follow them; the study as a whole is folded into `study`,
  // so memory grows with windows, not with records.
  std::deque<JournalLine> records;
  StudyFold study{Agent::study_windows_kept};
  std::uint64_t records_without_journal = 0; // the seq of records when no state.dir keeps them
  std::deque<JournalLine> unjournaled; // records a failed append left to write first
  CompactionTrigger compaction_trigger{config.state.journal_limit_mb * 1024 * 1024};
  std::string journal_error;

  asio::steady_timer wake_timer;
  asio::steady_timer work_signal;
  asio::steady_timer scrape_timer;
  asio::steady_timer loops_done;
  MetricsSources sources; // after config, which it reads
  asio::steady_timer in_effect_timer;
  std::deque<LoopAction> queue;
  std::unique_ptr<ControlServer> control;
  bool stopping = false;
  int loops_running = 0;
  Point running_config{};

  // Counters for /metrics.
  std::map<std::string, std::uint64_t> record_counts;   // journal record types
  std::map<std::string, std::uint64_t> refusals;        // by reason
  std::map<std::string, std::uint64_t> verdicts;        // decisions by verdict
  std::uint64_t scrapes_ok = 0, scrapes_failed = 0, scrape_parse_errors = 0;
  double last_scrape_seconds = 0, last_apply_seconds = 0;
  std::uint64_t journal_failures = 0;
  std::string last_scrape_error;

  void log(LogLevel level, const std::string& line) const {
    if (options.log) options.log(level, line);
  }

  void enqueue(std::vector<LoopAction> actions) {
    for (auto& action : actions) queue.push_back(std::move(action));
    if (!queue.empty()) work_signal.cancel();
  }

  Adapter* adapter_for(const std::string& name) {
    for (auto& adapter : adapters)
      if (adapter->name() == name) return adapter.get();
    return nullptr;
  }

  // Which adapter sets which parameter: from the adapters' own lists (each the set the config
  // gives it, in the order the adapter takes its settings), once the last of them is registered.
  std::optional<ParamOwners> owners;

  // Where the adapter stands in config.adapters (its size when it is not there).
  std::size_t config_position(const std::string& adapter_name) const {
    const auto it = std::find_if(config.adapters.begin(), config.adapters.end(),
                                 [&](const AdapterConfig& c) { return c.name == adapter_name; });
    return static_cast<std::size_t>(it - config.adapters.begin());
  }

  void register_owners() {
    std::vector<std::string> names(config.adapters.size());
    std::vector<std::vector<std::string>> owned(config.adapters.size());
    for (const auto& adapter : adapters) {
      const auto position = config_position(adapter->name());
      names[position] = adapter->name();
      owned[position] = adapter->params();
    }
    owners.emplace(config.space, names, owned);
  }

  // What adapters[position] sets for `point`. Once running, adapters[i] is config.adapters[i]
  // (order_adapters_as_configured), the i-th adapter of `owners`.
  Settings settings_for(std::size_t position, const Point& point) const {
    return owners->settings_for(position, config.space, point);
  }

  // The positions of the adapters whose settings differ between two configurations.
  std::vector<std::size_t> adapters_changed(const Point& from, const Point& to) const {
    std::vector<std::size_t> changed;
    for (std::size_t i = 0; i < adapters.size(); ++i)
      if (settings_for(i, from) != settings_for(i, to)) changed.push_back(i);
    return changed;
  }

  // --- journal --------------------------------------------------------------------------------

  // Writes a record durably, after any a failed write left behind. False when the disk refused:
  // the caller must then not act on it.
  bool journal_record(JournalRecord record) {
    // When it happened, though it may reach the disk later.
    JournalLine line{0, unix_ms(std::chrono::system_clock::now()), std::move(record)};
    if (!journal) {
      line.seq = ++records_without_journal;
      keep(std::move(line));
      return true;
    }
    unjournaled.push_back(std::move(line));
    return write_waiting_records();
  }

  // Writes the records a refused append left waiting, oldest first. The scrape's tick calls it too,
  // so that they reach the disk once space comes back even when the loop records nothing new (in
  // safe mode after the refused applies, say).
  bool write_waiting_records() {
    while (!unjournaled.empty()) {
      auto& next = unjournaled.front();
      const auto seq = journal->next_seq();
      if (auto ec = journal->append(encode_record(next.record), next.time_ms)) {
        ++journal_failures;
        // Once per outage (or when the reason changes), not once per retry.
        auto error = "journal " + journal->path().string() + ": " + ec.message();
        if (error != journal_error)
          log(LogLevel::error, error + " (" + std::to_string(unjournaled.size()) +
                                   " records waiting; retried every scrape, nothing is applied meanwhile)");
        journal_error = std::move(error);
        return false;
      }
      if (!journal_error.empty()) {
        log(LogLevel::info, "journal " + journal->path().string() + " takes records again; " +
                                std::to_string(unjournaled.size()) + " waiting records written");
        journal_error.clear();
      }
      next.seq = seq;
      keep(std::move(next));
      unjournaled.pop_front();
    }
    compact_journal_if_large();
    return true;
  }

  // Bounds the journal (docs/journal.md, "Compaction") when core's CompactionTrigger says so.
  void compact_journal_if_large() {
    const bool droppable = loop->guarding() || loop->phase() == LoopPhase::done || loop->mode() == TuningMode::recommend;
    if (!journal || !compaction_trigger.due(journal->size(), droppable)) return;
    const auto before = journal->size();
    CompactionPolicy policy;
    policy.windows_per_config = loop->policy().evidence_windows;
    JournalCompaction compaction(policy);
    const auto ec = journal->compact([&](boost::json::object record) { compaction.add(record); },
                                     [&] {
                                       compaction.decide();
                                       return compaction.header();
                                     },
                                     [&](std::size_t index) { return compaction.keeps(index); });
    if (ec) {
      log(LogLevel::warning, "journal: cannot compact " + journal->path().string() + ": " + ec.message());
      compaction_trigger.failed(before);
      return;
    }
    compaction_trigger.compacted(journal->size());
    log(LogLevel::info, "journal: compacted from " + std::to_string(before) + " to " + std::to_string(journal->size()) +
                            " bytes; the journal before is " + journal->path().string() + ".1");
  }

  // A written record: said in the log, counted, folded into the study, told to the host, kept
  // among the recent ones.
  void keep(JournalLine line) {
    note(line.record);
    study.add(line);
    records.push_back(std::move(line));
    tell_host(records.back());
    while (records.size() > Agent::recent_records_kept) records.pop_front();
  }

  // solver.history: results measured elsewhere start the solver. (Outside the run coroutine: g++ 12
  // misreads a try block inside it as a mismatched delete.)
  void seed_offline_history() {
    if (config.solver.history.empty()) return;
    const auto& path = config.solver.history;
    std::ifstream history(path);
    if (!history) throw std::runtime_error("solver.history: cannot read " + path.string());
    try {
      const auto trials = read_history(config.space, history, path.string());
      loop->seed(trials);
      log(LogLevel::info, "solver: started from " + std::to_string(trials.size()) + " offline results in " + path.string());
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(std::string("solver.history: ") + e.what());
    }
  }

  // The host's event for a record, if it is one a host hears about.
  void tell_host(const JournalLine& line) const {
    if (!on_event) return;
    if (const auto kind = event_kind(line.record)) on_event(AgentEvent{*kind, line});
  }

  // Counts a record for /metrics and says what happened in the log.
  void note(const JournalRecord& record) {
    ++record_counts[record_type(record)];
    if (const auto* refusal = std::get_if<RefusalRecord>(&record)) ++refusals[refusal->reason];
    if (const auto* decision = std::get_if<DecisionRecord>(&record)) ++verdicts[verdict_name(decision->verdict)];
    if (auto line = record_log_line(record)) log(line->level, line->text);
  }

  // Every config adapter has its registered adapter, kept in config order so an apply changes
  // adapters in the order the operator wrote them.
  void order_adapters_as_configured() {
    if (adapters.size() != config.adapters.size()) {
      std::string missing;
      for (const auto& c : config.adapters)
        if (adapter_for(c.name) == nullptr) missing += " '" + c.name + "'";
      throw std::runtime_error("no adapter registered for" + missing);
    }
    std::sort(adapters.begin(), adapters.end(),
              [&](const auto& a, const auto& b) { return config_position(a->name()) < config_position(b->name()); });
  }

  // Record by record as the journal is read: the status page's fold, the loop and the recent
  // records take what they keep from each, and a long journal is never held in memory whole.
  void open_and_replay_journal() {
    auto replay = loop->begin_replay();
    std::size_t replayed = 0;
    journal.emplace(Journal::open(config.state.dir, [&](const boost::json::object& record) {
      auto line = loop->replay_record(replay, record);
      study.add(line);
      records.push_back(std::move(line));
      if (records.size() > Agent::recent_records_kept) records.pop_front();
      ++replayed;
    }));
    loop->finish_replay(std::move(replay));
    if (journal->recovered_bytes() > 0)
      log(LogLevel::warning, "journal: dropped a torn last record (" + std::to_string(journal->recovered_bytes()) +
                                 " bytes) left by a crash");
    log(LogLevel::info, "journal: replayed " + std::to_string(replayed) + " records");
  }

  // /metrics, /status, / and the operator commands, answered by the agent.
  void start_control_server(Agent& agent) {
    ControlServerOptions control_options;
    control_options.listen = config.control.listen;
    if (!config.control.token_file.empty()) {
      std::string error;
      auto token = read_token_file(config.control.token_file, error);
      if (!token) throw std::runtime_error("control.token_file: " + error);
      control_options.token = std::move(*token);
    }
    ControlHandlers handlers;
    handlers.metrics = [&agent] { return agent.metrics_text(); };
    handlers.status = [&agent] { return boost::json::value(agent.status()); };
    handlers.page = [&agent] { return agent.status_page(); };
    handlers.command = [&agent](std::string_view action) {
      // The routes name only known commands; anything else is refused, never taken for another.
      const auto which = command_from_name(action);
      if (!which) return CommandResult{false, "unknown command '" + std::string(action) + "'"};
      auto outcome = agent.command(*which, "control");
      return CommandResult{outcome.ok, outcome.message};
    };
    control = std::make_unique<ControlServer>(wake_timer.get_executor(), std::move(control_options), std::move(handlers));
    control->start();
    log(LogLevel::info, "control server on port " + std::to_string(control->port()));
  }

  // --- adapters -------------------------------------------------------------------------------

  // Runs one adapter operation, bounded by the adapter's timeout even when the adapter never
  // answers: `start` begins it with a function that takes its outcome; `late` stands in for one.
  template <class Outcome, class Start>
  asio::awaitable<Outcome> call_guarded(const Adapter& adapter, Start start, Outcome late) {
    struct Call {
      std::optional<Outcome> result;
      asio::steady_timer timer;
    };
    const auto executor = co_await asio::this_coro::executor;
    auto call = std::make_shared<Call>(Call{std::nullopt, asio::steady_timer(executor)});
    call->timer.expires_after(adapter.timeout());
    start([call](Outcome outcome) {
      if (call->result) return;
      call->result.emplace(std::move(outcome));
      call->timer.cancel();
    });
    if (!call->result) {
      boost::system::error_code ec;
      co_await call->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!call->result) call->result.emplace(std::move(late));
    co_return std::move(*call->result);
  }

  static AdapterResult no_answer(const Adapter& adapter) {
    return {make_error_code(boost::system::errc::timed_out),
            "adapter '" + adapter.name() + "': no answer within " + std::to_string(adapter.timeout().count()) + " ms"};
  }

  asio::awaitable<AdapterResult> call_apply(Adapter& adapter, Settings settings) {
    // Arguments as named locals: GCC 12 destroys temporaries of an awaited full-expression twice.
    auto start = [&](auto done) { adapter.async_apply(std::move(settings), std::move(done)); };
    auto late = no_answer(adapter);
    co_return co_await call_guarded(adapter, std::move(start), std::move(late));
  }

  asio::awaitable<std::pair<AdapterResult, Settings>> call_current(Adapter& adapter) {
    using Outcome = std::pair<AdapterResult, Settings>;
    auto start = [&](auto done) {
      adapter.async_current([done](AdapterResult result, Settings values) { done(Outcome{std::move(result), std::move(values)}); });
    };
    Outcome late{no_answer(adapter), Settings{}};
    co_return co_await call_guarded(adapter, std::move(start), std::move(late));
  }

  asio::awaitable<std::pair<AdapterResult, InEffect>> call_in_effect(Adapter& adapter, Settings settings) {
    using Outcome = std::pair<AdapterResult, InEffect>;
    auto start = [&](auto done) {
      adapter.async_in_effect(std::move(settings),
                              [done](AdapterResult result, InEffect found) { done(Outcome{std::move(result), std::move(found)}); });
    };
    Outcome late{no_answer(adapter), InEffect{}};
    co_return co_await call_guarded(adapter, std::move(start), std::move(late));
  }

  // All or nothing (ApplyTransaction): carries out the transaction's calls in turn.
  asio::awaitable<AdapterResult> apply_point(const Point& target) {
    const auto started = std::chrono::steady_clock::now();
    std::vector<AdapterChange> changes;
    std::vector<Adapter*> changed;
    for (const auto i : adapters_changed(running_config, target)) {
      changes.push_back(AdapterChange{adapters[i]->name(), settings_for(i, running_config), settings_for(i, target)});
      changed.push_back(adapters[i].get());
    }
    ApplyTransaction transaction(std::move(changes));
    boost::system::error_code apply_error;
    while (!transaction.finished()) {
      if (const auto* call = std::get_if<ApplyCall>(&transaction.next())) {
        const auto result = co_await call_apply(*changed[call->index], call->settings);
        apply_error = result.error;
        transaction.applied(bool(result), failure_text(*changed[call->index], result));
      } else if (const auto* read = std::get_if<ReadBackCall>(&transaction.next())) {
        auto [result, reported] = co_await call_current(*changed[read->index]);
        // One that cannot read back (a command without `current`) is taken at its word.
        transaction.read_back(result ? ReadBack{ReadBack::Kind::settings, std::move(reported)}
                                     : ReadBack{ReadBack::Kind::cannot_tell, {}});
      } else if (const auto* undo = std::get_if<UndoCall>(&transaction.next())) {
        const auto result = co_await call_apply(*changed[undo->index], undo->settings);
        transaction.undone(bool(result), result.message);
      }
    }
    last_apply_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto& outcome = std::get<ApplyOutcome>(transaction.next());
    if (outcome.ok) {
      running_config = target;
      co_return AdapterResult{};
    }
    const auto error = outcome.failure == ApplyOutcome::Failure::did_not_take ? make_error_code(AdapterError::bad_response)
                                                                              : apply_error;
    co_return AdapterResult{error, outcome.message};
  }

  // What a failed adapter call says, naming the adapter.
  static std::string failure_text(const Adapter& adapter, const AdapterResult& result) {
    if (result) return {};
    return result.message.empty() ? "adapter '" + adapter.name() + "': " + result.error.message() : result.message;
  }

  // Waits until the service runs what was applied, as core's InEffectWait says (its header gives
  // the rule); the loop hears of the apply only then.
  asio::awaitable<void> wait_in_effect(const Point& before, const Point& target) {
    const auto changed = adapters_changed(before, target);
    std::vector<std::string> names;
    for (const auto i : changed) names.push_back(adapters[i]->name());
    InEffectWait wait(std::move(names), settings_of(config.space, target), std::chrono::steady_clock::now(),
                      config.policy.in_effect_limit);
    while (!std::holds_alternative<InEffectDone>(wait.next())) {
      if (const auto* ask = std::get_if<InEffectAsk>(&wait.next())) {
        const auto position = changed[ask->index];
        auto [result, found] = co_await call_in_effect(*adapters[position], settings_for(position, target));
        const auto now = std::chrono::steady_clock::now();
        if (!result) wait.cannot_tell(result.message, now);
        else if (found.in_effect) wait.in_effect(now);
        else wait.not_in_effect(found.detail, now);
      } else if (const auto* sleep = std::get_if<InEffectSleep>(&wait.next())) {
        // stop() cancels the timer, but it may have come while an adapter was being asked.
        if (!stopping) {
          in_effect_timer.expires_at(sleep->until);
          boost::system::error_code ec;
          co_await in_effect_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        wait.woke(std::chrono::steady_clock::now(), stopping);
      }
    }
    if (const auto& record = std::get<InEffectDone>(wait.next()).record) journal_record(*record);
  }

  // What the adapters run now, as core's running_config_from makes it of their answers.
  asio::awaitable<Point> read_running_config() {
    std::vector<AdapterReading> readings;
    for (auto& adapter : adapters) {
      auto answer = co_await call_current(*adapter);
      readings.push_back(reading_of(*adapter, answer.first, std::move(answer.second)));
    }
    auto running = running_config_from(config.space, readings);
    for (const auto& note : running.notes) log(LogLevel::info, note);
    if (!running.point) throw std::runtime_error(running.error);
    co_return std::move(*running.point);
  }

  static AdapterReading reading_of(const Adapter& adapter, const AdapterResult& result, Settings settings) {
    using Kind = AdapterReading::Kind;
    if (result) return {adapter.params(), Kind::settings, std::move(settings), {}};
    const auto kind = result.error == AdapterError::cannot_read ? Kind::cannot_read : Kind::failed;
    return {adapter.params(), kind, {}, failure_text(adapter, result)};
  }

  // --- scraping -------------------------------------------------------------------------------

  asio::awaitable<void> scrape_loop() {
    int failures_in_a_row = 0;
    while (!stopping) {
      const auto started = std::chrono::steady_clock::now();
      // Every source at once, read at the time the last one answered.
      auto now = std::chrono::system_clock::now();
      const auto executor = co_await asio::this_coro::executor;
      auto result = co_await sources.scrape(executor, [&now] {
        now = std::chrono::system_clock::now();
        return seconds_since_epoch(now);
      });
      last_scrape_seconds = result.seconds;
      if (stopping) break;
      if (!unjournaled.empty()) write_waiting_records();
      if (result.malformed > 0) ++scrape_parse_errors;
      if (!result.error.empty()) last_scrape_error = result.error;
      if (result.scrape) {
        ++scrapes_ok;
        failures_in_a_row = 0;
        enqueue(loop->on_scrape(now, std::move(*result.scrape)));
      } else {
        ++scrapes_failed;
        // Log the first failure of a run of them, then every 60th, not every second.
        if (failures_in_a_row++ % 60 == 0) log(LogLevel::warning, "scrape failed: " + last_scrape_error);
      }
      scrape_timer.expires_at(started + config.target.interval);
      boost::system::error_code ec;
      co_await scrape_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  asio::awaitable<void> wake_loop() {
    while (!stopping) {
      boost::system::error_code ec;
      co_await wake_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping) break;
      if (wake_timer.expiry() > asio::steady_timer::clock_type::now()) continue; // rescheduled
      wake_timer.expires_at(asio::steady_timer::time_point::max());
      enqueue(loop->on_timer(std::chrono::system_clock::now()));
    }
  }

  void schedule_wake(TimePoint at) {
    const auto delay = at - std::chrono::system_clock::now();
    wake_timer.expires_after(std::max<asio::steady_timer::duration>(
        asio::steady_timer::duration::zero(), std::chrono::duration_cast<asio::steady_timer::duration>(delay)));
  }

  // Carries out the loop's actions in order, one at a time, until stop().
  asio::awaitable<void> work_loop() {
    while (!stopping) {
      if (queue.empty()) {
        work_signal.expires_at(asio::steady_timer::time_point::max());
        boost::system::error_code ec;
        co_await work_signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      co_await carry_out_next();
    }
  }

  // After stop(): the records the loop had queued are written (an apply or a wake it had asked
  // for is dropped), then the loop's stop (TuningLoop::on_stop) is carried out to the end.
  asio::awaitable<void> finish(StopTarget target) {
    std::erase_if(queue, [](const LoopAction& action) {
      return std::holds_alternative<ApplyAction>(action) || std::holds_alternative<WakeAction>(action);
    });
    enqueue(loop->on_stop(target));
    while (!queue.empty()) co_await carry_out_next();
  }

  asio::awaitable<void> carry_out_next() {
    auto action = std::move(queue.front());
    queue.pop_front();
    if (auto* record = std::get_if<RecordAction>(&action)) {
      journal_record(record->record);
    } else if (auto* apply = std::get_if<ApplyAction>(&action)) {
      if (!unjournaled.empty()) {
        // The apply's own record is not on disk: acting on it would leave a change nobody can
        // replay.
        enqueue(loop->on_apply_failed(std::chrono::system_clock::now(), "not applied: " + journal_error));
        co_return;
      }
      const auto before = running_config;
      const auto result = co_await apply_point(apply->point);
      if (result) co_await wait_in_effect(before, apply->point);
      const auto now = std::chrono::system_clock::now();
      enqueue(result ? loop->on_apply_done(now) : loop->on_apply_failed(now, result.message));
    } else if (auto* wake = std::get_if<WakeAction>(&action)) {
      schedule_wake(wake->at);
    } else if (auto* best = std::get_if<SaveBestAction>(&action)) {
      if (journal) {
        boost::json::object runtime{{"point", point_to_json(config.space, best->point)},
                                    {"value", best->value},
                                    {"seq", journal->next_seq() - 1},
                                    {"time", unix_ms(std::chrono::system_clock::now())}};
        if (auto ec = write_runtime_config(config.state.dir, runtime))
          log(LogLevel::error, "cannot write runtime_config.json: " + ec.message());
      }
    }
  }
};

Agent::Agent(asio::any_io_executor executor, TuningConfig config, AgentOptions options)
    : executor_(std::move(executor)), state_(std::make_unique<State>(executor_, std::move(config), std::move(options))) {}

Agent::~Agent() = default;

void Agent::add_adapter(std::unique_ptr<Adapter> adapter) {
  auto& s = *state_;
  const auto position = s.config_position(adapter->name());
  if (position == s.config.adapters.size())
    throw std::invalid_argument("adapter '" + adapter->name() + "' is not in the config's adapters");
  if (s.adapter_for(adapter->name()) != nullptr)
    throw std::invalid_argument("adapter '" + adapter->name() + "' is registered twice");
  // Its entry's params, in any order (its own is the one it takes settings in), each once: a param
  // it lists twice is refused here, where it is named, not when the last adapter is registered,
  // which may be another. Not core's ownership rule: ParamOwners checks that on every adapter's
  // list once the last is registered.
  const auto& given = s.config.adapters[position].params;
  if (std::multiset<std::string>(adapter->params().begin(), adapter->params().end()) !=
      std::multiset<std::string>(given.begin(), given.end()))
    throw std::invalid_argument("adapter '" + adapter->name() + "' sets other params than the config gives it");
  s.adapters.push_back(std::move(adapter));
  if (s.adapters.size() == s.config.adapters.size()) try {
      s.register_owners();
    } catch (const std::invalid_argument&) {
      s.adapters.pop_back(); // as if never registered: its list breaks the ownership rule
      throw;
    }
}

void Agent::set_metrics_source(std::function<std::string()> source) { state_->sources.set_first_source(std::move(source)); }

void Agent::set_event_handler(EventHandler handler) { state_->on_event = std::move(handler); }

void Agent::set_veto(Veto veto) { state_->loop->set_veto(std::move(veto)); }

const char* event_name(AgentEventKind kind) noexcept {
  switch (kind) {
  case AgentEventKind::proposal: return "proposal";
  case AgentEventKind::applied: return "applied";
  case AgentEventKind::refused: return "refused";
  case AgentEventKind::promoted: return "promoted";
  case AgentEventKind::rolled_back: return "rolled_back";
  case AgentEventKind::confirming: return "confirming";
  case AgentEventKind::safe_mode_entered: return "safe_mode_entered";
  case AgentEventKind::safe_mode_left: return "safe_mode_left";
  case AgentEventKind::mode_changed: return "mode_changed";
  case AgentEventKind::recommendation: return "recommendation";
  case AgentEventKind::claimed: return "claimed";
  case AgentEventKind::study_done: return "study_done";
  }
  return "unknown";
}

asio::awaitable<void> Agent::run() {
  auto& s = *state_;
  s.order_adapters_as_configured();
  s.seed_offline_history();
  if (!s.config.state.dir.empty()) {
    s.open_and_replay_journal();
    s.compact_journal_if_large();
  }
  s.running_config = co_await s.read_running_config();
  if (s.options.control_server) s.start_control_server(*this);
  if (s.options.on_ready) s.options.on_ready();

  s.enqueue(s.loop->start(std::chrono::system_clock::now(), s.running_config));
  auto finished = [this](std::exception_ptr) {
    if (--state_->loops_running == 0) state_->loops_done.cancel();
  };
  s.loops_running = 2;
  asio::co_spawn(executor_, s.scrape_loop(), finished);
  asio::co_spawn(executor_, s.wake_loop(), finished);
  co_await s.work_loop();

  // Stopping: let the side loops see it, then leave the service as asked.
  while (s.loops_running > 0) {
    boost::system::error_code ec;
    co_await s.loops_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_await s.finish(s.options.on_exit);
  s.log(LogLevel::info, "stopped");
}

void Agent::stop() {
  auto& s = *state_;
  if (s.stopping) return;
  s.stopping = true;
  s.wake_timer.cancel();
  s.scrape_timer.cancel();
  s.work_signal.cancel();
  s.in_effect_timer.cancel();
  if (s.control) s.control->stop();
}

void Agent::set_on_exit(AgentOptions::OnExit what) noexcept { state_->options.on_exit = what; }

CommandOutcome Agent::command(OperatorCommand command, const std::string& source) {
  auto outcome = state_->loop->on_command(std::chrono::system_clock::now(), command, source);
  state_->enqueue(std::move(outcome.actions));
  outcome.actions.clear();
  return outcome;
}

const std::deque<JournalLine>& Agent::records() const noexcept { return state_->records; }

StudyReport Agent::study_report() const { return state_->study.report(); }

bool Agent::guarding_after_study() const { return state_->loop->guarding(); }

unsigned short Agent::control_port() const noexcept { return state_->control ? state_->control->port() : 0; }

const TuningLoop& Agent::loop() const noexcept { return *state_->loop; }

boost::json::object Agent::status() const {
  const auto& s = *state_;
  const auto& loop = *s.loop;
  boost::json::object out;
  out["phase"] = phase_name(loop.phase());
  out["enabled"] = s.config.policy.enabled;
  out["mode"] = !s.config.policy.enabled ? "observe" : mode_name(loop.mode());
  out["confirming"] = loop.confirming();
  if (loop.recommendation()) out["recommendation"] = encode_record(*loop.recommendation());
  // The fold's report copies every window it keeps and computes the trends: once per request.
  const auto report = s.study.report();
  out["statistics"] = study_statistics_json(report);
  out["paused"] = loop.paused();
  out["safe_mode"] = loop.in_safe_mode();
  out["applied"] = point_to_json(s.config.space, s.running_config);
  if (loop.incumbent()) out["incumbent"] = point_to_json(s.config.space, *loop.incumbent());
  if (loop.incumbent_value()) out["incumbent_value"] = *loop.incumbent_value();
  // Every scored window (the baseline and re-measurements too, as statistics.windows counts them),
  // and the candidate windows the budget counts.
  out["windows_scored"] = report.counts.windows;
  out["candidate_windows"] = loop.windows_scored();
  out["budget"] = s.config.policy.budget;
  if (loop.claim()) out["claim"] = encode_record(*loop.claim());
  if (loop.guarding() && loop.guard_reference()) {
    // After the study: the best's level when guarding began against its recent windows.
    const auto& reference = *loop.guard_reference();
    const auto recent = pool(loop.guard_recent());
    boost::json::object guard{{"reference", reference.mean}, {"reference_windows", reference.windows}};
    if (recent.windows > 0) {
      const double sign = s.config.policy.direction == Direction::maximize ? 1.0 : -1.0;
      guard["recent"] = recent.mean;
      guard["recent_windows"] = recent.windows;
      guard["change"] = reference.mean != 0.0 ? sign * (recent.mean - reference.mean) / std::abs(reference.mean)
                                              : sign * (recent.mean - reference.mean);
    }
    out["guard"] = std::move(guard);
  }
  out["rollbacks_last_hour"] = loop.guardrails().rollbacks_in_last_hour(std::chrono::system_clock::now());
  boost::json::object signals;
  for (std::size_t i = 0; i < s.config.policy.signals.size(); ++i) {
    const auto& value = loop.last_signals()[i];
    signals[s.config.policy.signals[i].name] = value ? boost::json::value(*value) : boost::json::value(nullptr);
  }
  out["signals"] = std::move(signals);
  boost::json::object refusals;
  for (const auto& [reason, count] : s.refusals) refusals[reason] = count;
  out["refusals"] = std::move(refusals);
  out["scrapes"] = {{"ok", s.scrapes_ok}, {"failed", s.scrapes_failed}, {"last_error", s.last_scrape_error}};
  if (!s.journal_error.empty()) out["journal_error"] = s.journal_error;
  if (s.journal) out["journal"] = s.journal->path().string();
  return out;
}

std::string Agent::metrics_text() const {
  const auto& s = *state_;
  const auto& loop = *s.loop;
  ExpositionWriter out;
  auto count = [&](const std::string& type) {
    const auto it = s.record_counts.find(type);
    return it == s.record_counts.end() ? std::uint64_t{0} : it->second;
  };
  out.metric("trimtab_asks_total", MetricType::counter, "Candidates the solver proposed.", count("proposal"));
  out.metric("trimtab_applies_total", MetricType::counter, "Configurations applied to the service.", count("applied"));
  out.metric("trimtab_apply_failures_total", MetricType::counter, "Applies the adapters failed (and reverted).",
             count("apply_failed"));
  out.family("trimtab_windows_total", MetricType::counter, "Observation windows decided, by verdict.");
  for (const auto& [verdict, n] : s.verdicts) out.sample("trimtab_windows_total", {{"verdict", verdict}}, n);
  out.metric("trimtab_rollbacks_total", MetricType::counter, "Automatic rollbacks after a bad window.",
             s.verdicts.count("rollback") ? s.verdicts.at("rollback") : std::uint64_t{0});
  out.family("trimtab_refusals_total", MetricType::counter, "Applies a guardrail refused or deferred, by reason.");
  for (const auto& [reason, n] : s.refusals) out.sample("trimtab_refusals_total", {{"reason", reason}}, n);
  out.family("trimtab_best_value", MetricType::gauge, "The incumbent's objective value.");
  if (loop.incumbent_value()) out.sample("trimtab_best_value", *loop.incumbent_value());
  out.family("trimtab_param_value", MetricType::gauge, "The configuration applied now, numeric params.");
  for (std::size_t i = 0; i < s.config.space.size(); ++i) {
    const auto& value = s.running_config.values.at(i);
    double number = 0;
    if (const auto* v = std::get_if<std::int64_t>(&value)) number = static_cast<double>(*v);
    else if (const auto* d = std::get_if<double>(&value)) number = *d;
    else continue;
    out.sample("trimtab_param_value", {{"param", s.config.space.params()[i].name}}, number);
  }
  out.metric("trimtab_safe_mode", MetricType::gauge, "1 while in safe mode.",
             std::uint64_t{loop.in_safe_mode() ? 1u : 0u});
  out.metric("trimtab_paused", MetricType::gauge, "1 while paused by an operator.",
             std::uint64_t{loop.paused() ? 1u : 0u});
  out.family("trimtab_scrapes_total", MetricType::counter, "Scrapes of the target, by result.");
  out.sample("trimtab_scrapes_total", {{"result", "ok"}}, s.scrapes_ok);
  out.sample("trimtab_scrapes_total", {{"result", "failed"}}, s.scrapes_failed);
  out.metric("trimtab_scrape_parse_errors_total", MetricType::counter, "Scrapes with malformed lines (the rest was used).",
             s.scrape_parse_errors);
  out.metric("trimtab_scrape_duration_seconds", MetricType::gauge, "How long the last scrape took.",
             s.last_scrape_seconds);
  out.metric("trimtab_apply_duration_seconds", MetricType::gauge, "How long the last apply took.",
             s.last_apply_seconds);
  out.metric("trimtab_window_duration_seconds", MetricType::gauge, "Configured settle plus measured time per window.",
             std::chrono::duration<double>(s.config.policy.settle + s.config.policy.duration).count());
  out.metric("trimtab_journal_failures_total", MetricType::counter, "Journal appends the disk refused.",
             s.journal_failures);
  auto text = std::move(out).take();
  if (s.control) text += to_prometheus(s.control->stats());
  return text;
}

std::string Agent::status_page() const {
  auto live = status();
  // Refreshing a finished study's page would only flicker.
  live["live"] = state_->loop->phase() != LoopPhase::done;
  return render_status_page(state_->study.report(), live);
}

} // namespace trimtab
