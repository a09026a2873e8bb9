#include "child_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <memory>
#include <optional>
#include <utility>

#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <trimtab/adapters/adapter_error.hpp>

#include "posix_util.hpp"
#include "text_formats.hpp"

extern char** environ;

namespace trimtab::detail {
namespace {

namespace asio = boost::asio;

// How much of stderr is kept, and how much of it a failure message quotes.
constexpr std::size_t kept_errors = 4096;
constexpr std::size_t quoted_chars = 200;
// How long a killed child may take to be reaped before the operation completes without it.
constexpr auto kill_grace = std::chrono::seconds(2);
// How often waitpid is polled where there are no pidfds: from 1 ms, doubling up to 25 ms.
constexpr auto first_poll = std::chrono::milliseconds(1);
constexpr auto last_poll = std::chrono::milliseconds(25);
// How much one turn on the reactor reads from a pipe before letting other handlers run.
constexpr std::size_t read_budget = 256 * 1024;

[[nodiscard]] boost::system::error_code system_error(int error) {
  return {error, boost::system::system_category()};
}

// A pipe whose ends are close-on-exec and above the standard descriptors (so the child's dup2 onto
// 0, 1 and 2 cannot clobber them, should the host have closed its stdio), its read end non-blocking.
struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

[[nodiscard]] int above_stdio(UniqueFd& fd) {
  if (fd.get() > 2) return 0;
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return errno;
  fd.reset(moved);
  return 0;
}

[[nodiscard]] int make_pipe(Pipe& pipe) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return errno;
  pipe.read.reset(fds[0]);
  pipe.write.reset(fds[1]);
  if (int error = above_stdio(pipe.read)) return error;
  if (int error = above_stdio(pipe.write)) return error;
  const int flags = ::fcntl(pipe.read.get(), F_GETFL);
  if (flags < 0 || ::fcntl(pipe.read.get(), F_SETFL, flags | O_NONBLOCK) != 0) return errno;
  return 0;
}

// Starts the program, or returns why it could not be.
[[nodiscard]] int spawn(const ChildRequest& request, const Pipe& out, const Pipe& err, pid_t& pid) {
  posix_spawn_file_actions_t actions;
  if (int error = ::posix_spawn_file_actions_init(&actions)) return error;
  posix_spawnattr_t attributes;
  if (int error = ::posix_spawnattr_init(&attributes)) {
    ::posix_spawn_file_actions_destroy(&actions);
    return error;
  }
  int error = ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (!error) error = ::posix_spawn_file_actions_adddup2(&actions, out.write.get(), 1);
  if (!error) error = ::posix_spawn_file_actions_adddup2(&actions, err.write.get(), 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Descriptors the host opened without O_CLOEXEC must not leak into the child either.
  if (!error) error = ::posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
  sigset_t none, all;
  ::sigemptyset(&none);
  ::sigfillset(&all);
  if (!error) error = ::posix_spawnattr_setsigmask(&attributes, &none);
  if (!error) error = ::posix_spawnattr_setsigdefault(&attributes, &all); // a host ignoring SIGPIPE…
  if (!error) error = ::posix_spawnattr_setpgroup(&attributes, 0);
  if (!error)
    error = ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (!error) {
    std::vector<char*> argv;
    argv.reserve(request.argv.size() + 1);
    for (const auto& arg : request.argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    error = ::posix_spawn(&pid, request.program.c_str(), &actions, &attributes, argv.data(), environ);
  }
  ::posix_spawnattr_destroy(&attributes);
  ::posix_spawn_file_actions_destroy(&actions);
  return error;
}

class ChildRun : public std::enable_shared_from_this<ChildRun> {
public:
  ChildRun(asio::any_io_executor executor, ChildRequest request, std::function<void(ChildOutcome)> handler)
      : executor_(executor), request_(std::move(request)), handler_(std::move(handler)), out_(executor, false),
        err_(executor, true), deadline_(executor), poll_(executor) {
    out_.limit = request_.max_output;
    err_.limit = kept_errors;
  }

  ChildRun(const ChildRun&) = delete;
  ChildRun& operator=(const ChildRun&) = delete;

  ~ChildRun() {
    // Only when the executor dropped the operation unfinished: do not leave the child running.
    if (pid_ > 0 && !reaped_) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }

  void start() {
    Pipe out, err;
    if (int error = make_pipe(out)) return fail_to_start(error);
    if (int error = make_pipe(err)) return fail_to_start(error);
    if (int error = spawn(request_, out, err, pid_)) return fail_to_start(error);
    out.write.reset();
    err.write.reset();

    boost::system::error_code ec;
    out_.descriptor.assign(out.read.get(), ec);
    if (!ec) {
      (void)out.read.release();
      err_.descriptor.assign(err.read.get(), ec);
      if (!ec) (void)err.read.release();
    }
    if (ec) {
      ::kill(-pid_, SIGKILL);
      finish({ec, "cannot be watched: " + ec.message()});
      return watch_exit(); // reaps it
    }
#ifdef SYS_pidfd_open
    if (const auto fd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)); fd >= 0) {
      pidfd_.emplace(executor_);
      pidfd_->assign(fd, ec);
      if (ec) { // polling will do
        ::close(fd);
        pidfd_.reset();
      }
    }
#endif
    deadline_.expires_after(request_.timeout);
    deadline_.async_wait([self = shared_from_this()](boost::system::error_code error) {
      if (!error) self->time_out();
    });
    watch(out_);
    watch(err_);
    watch_exit();
  }

private:
  struct Stream {
    Stream(const asio::any_io_executor& executor, bool tail) : descriptor(executor), keep_tail(tail) {}
    asio::posix::stream_descriptor descriptor;
    std::string text;
    bool keep_tail; // stderr keeps its last bytes, stdout its first
    std::size_t limit = 0;
    bool truncated = false;

    void keep(const char* data, std::size_t size) {
      if (keep_tail) {
        text.append(data, size);
        if (text.size() > 2 * limit) text.erase(0, text.size() - limit);
      } else {
        const auto room = limit - std::min(limit, text.size());
        text.append(data, std::min(size, room));
        truncated = truncated || size > room;
      }
    }

    void close() {
      boost::system::error_code ignored;
      descriptor.close(ignored);
    }
  };

  enum class Drained { empty, more, closed };

  // Reads what the pipe holds now, up to read_budget.
  [[nodiscard]] Drained drain(Stream& stream) {
    if (!stream.descriptor.is_open()) return Drained::closed;
    char buffer[16384];
    for (std::size_t total = 0; total < read_budget;) {
      const auto got = ::read(stream.descriptor.native_handle(), buffer, sizeof buffer);
      if (got > 0) {
        stream.keep(buffer, static_cast<std::size_t>(got));
        total += static_cast<std::size_t>(got);
      } else if (got < 0 && errno == EINTR) {
        continue;
      } else if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return Drained::empty;
      } else {
        stream.close(); // end of file, or an error: either way nothing more comes
        return Drained::closed;
      }
    }
    return Drained::more;
  }

  // Reads the pipe until it closes. The reactor is edge-triggered, so the pipe is drained before
  // each wait: data that came before the wait started would not wake it.
  void watch(Stream& stream) {
    if (finished_) return;
    switch (drain(stream)) {
    case Drained::closed: return;
    case Drained::more:
      asio::post(executor_, [self = shared_from_this(), &stream] { self->watch(stream); });
      return;
    case Drained::empty:
      stream.descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                                   [self = shared_from_this(), &stream](boost::system::error_code error) {
                                     if (error == asio::error::operation_aborted) return;
                                     if (error) return stream.close();
                                     self->watch(stream);
                                   });
    }
  }

  [[nodiscard]] bool try_reap() {
    for (;;) {
      const pid_t got = ::waitpid(pid_, &status_, WNOHANG);
      if (got == pid_) return reaped_ = true;
      if (got == 0) return false;
      if (errno == EINTR) continue;
      // ECHILD: the host reaps children itself (SIGCHLD ignored, or a waitpid(-1) elsewhere).
      status_known_ = false;
      return reaped_ = true;
    }
  }

  // Waits for the child to exit and reaps it.
  void watch_exit() {
    if (try_reap()) return exited();
    if (pidfd_) {
      pidfd_->async_wait(asio::posix::descriptor_base::wait_read,
                         [self = shared_from_this()](boost::system::error_code error) {
                           if (error == asio::error::operation_aborted) return;
                           // A pidfd is readable once the process has exited; should it say so
                           // and waitpid disagree, or fail, polling takes over.
                           if (!error && self->try_reap()) return self->exited();
                           self->close_pidfd();
                           self->watch_exit();
                         });
      return;
    }
    poll_.expires_after(poll_interval_);
    poll_interval_ = std::min<std::chrono::milliseconds>(poll_interval_ * 2, last_poll);
    poll_.async_wait([self = shared_from_this()](boost::system::error_code error) {
      if (!error) self->watch_exit();
    });
  }

  void close_pidfd() {
    if (!pidfd_) return;
    boost::system::error_code ignored;
    pidfd_->close(ignored);
    pidfd_.reset();
  }

  void exited() {
    close_pidfd();
    poll_.cancel();
    if (finished_) return; // a kill that took too long already completed the operation
    // What the child wrote is in the pipes now; whatever its own children still write is not
    // waited for.
    (void)drain(out_);
    (void)drain(err_);

    ChildOutcome outcome;
    std::string what;
    if (killed_) {
      outcome.error = make_error_code(boost::system::errc::timed_out);
      what = "did not finish within " + duration_text(request_.timeout) + " and was killed";
    } else if (!status_known_) {
      outcome.error = AdapterError::process_failed;
      what = "exited, but its status is unknown: something else reaped it (is SIGCHLD ignored?)";
    } else if (WIFEXITED(status_) && WEXITSTATUS(status_) != 0) {
      outcome.error = AdapterError::process_failed;
      what = "exited with status " + std::to_string(WEXITSTATUS(status_));
    } else if (WIFSIGNALED(status_)) {
      outcome.error = AdapterError::process_failed;
      what = "was killed by " + signal_name(WTERMSIG(status_));
    }
    if (outcome.error) {
      // Programs write their complaints to stderr, scripts sometimes to stdout.
      auto tail = quote_tail(err_.text, quoted_chars);
      if (tail.empty()) tail = quote_tail(out_.text, quoted_chars);
      outcome.message = tail.empty() ? what : what + ": " + tail;
    }
    outcome.output = std::move(out_.text);
    outcome.output_truncated = out_.truncated;
    finish(std::move(outcome));
  }

  void time_out() {
    if (reaped_ || finished_) return;
    killed_ = true;
    ::kill(-pid_, SIGKILL); // with whatever it started
    ::kill(pid_, SIGKILL);  // should it have left its group
    deadline_.expires_after(kill_grace);
    deadline_.async_wait([self = shared_from_this()](boost::system::error_code error) {
      if (error || self->reaped_) return;
      // Reaping goes on: watch_exit still waits for it.
      self->finish({make_error_code(boost::system::errc::timed_out),
                    "did not finish within " + duration_text(self->request_.timeout) +
                        ", and has not died " + duration_text(kill_grace) + " after SIGKILL"});
    });
  }

  void fail_to_start(int error) { finish({system_error(error), "cannot be started: " + errno_text(error)}); }

  void finish(ChildOutcome outcome) {
    if (finished_) return;
    finished_ = true;
    out_.close();
    err_.close();
    deadline_.cancel();
    asio::post(executor_, [handler = std::move(handler_), outcome = std::move(outcome)]() mutable {
      handler(std::move(outcome));
    });
  }

  asio::any_io_executor executor_;
  ChildRequest request_;
  std::function<void(ChildOutcome)> handler_;
  Stream out_;
  Stream err_;
  asio::steady_timer deadline_;
  asio::steady_timer poll_;
  std::optional<asio::posix::stream_descriptor> pidfd_;
  std::chrono::milliseconds poll_interval_ = first_poll;
  pid_t pid_ = -1;
  int status_ = 0;
  bool status_known_ = true;
  bool reaped_ = false;
  bool killed_ = false;
  bool finished_ = false;
};

} // namespace

void async_run_child(asio::any_io_executor executor, ChildRequest request, std::function<void(ChildOutcome)> handler) {
  auto run = std::make_shared<ChildRun>(executor, std::move(request), std::move(handler));
  run->start();
}

std::string duration_text(std::chrono::milliseconds duration) {
  const auto ms = duration.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

} // namespace trimtab::detail
