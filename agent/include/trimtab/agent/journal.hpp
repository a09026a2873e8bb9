#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/types.h>

#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>

namespace trimtab {

/// Thrown by Journal::open for a corrupt journal: what() reads "FILE:LINE: what is wrong".
class JournalError : public std::runtime_error {
public:
  JournalError(const std::filesystem::path& file, std::size_t line, const std::string& problem);
  [[nodiscard]] const std::filesystem::path& file() const noexcept { return file_; }
  [[nodiscard]] std::size_t line() const noexcept { return line_; } ///< 1-based
  [[nodiscard]] const std::string& problem() const noexcept { return problem_; }

private:
  std::filesystem::path file_;
  std::size_t line_;
  std::string problem_;
};

/// The system calls the journal's appends go through, replaceable so tests can fail them (a full
/// disk after N bytes, an fdatasync that reports EIO, a truncate that cannot undo). An empty
/// function means the real call: ::write, ::fdatasync, ::ftruncate. Each returns what the system
/// call returns and sets errno the same way.
struct JournalFileOps {
  std::function<ssize_t(int fd, const void* data, std::size_t size)> write;
  std::function<int(int fd)> datasync;
  std::function<int(int fd, off_t size)> truncate;
};

/// STATE_DIR/journal.jsonl (docs/journal.md): an append-only file of JSON objects, one per line,
/// each with "seq" (1, 2, 3… without gaps), "time" (Unix ms) and "type", made durable before
/// append() returns. Not thread-safe: one Journal per state directory, used from one thread.
class Journal {
public:
  /// Opens STATE_DIR/journal.jsonl (mode 0600), creating it and STATE_DIR if missing (new
  /// directories get mode 0700; an existing directory's mode is left alone), takes an exclusive
  /// lock on it, and replays its records. A last line cut short by a crash (no '\n', or a last
  /// line that is not JSON) is dropped and the file truncated to the last complete record:
  /// recovered_bytes() says how much went. Throws JournalError naming the line for any other
  /// line that is not a JSON object with an integer "seq" (the previous one plus 1, from 1), an
  /// integer "time" and a string "type" (a compacted journal, led by a `compacted` record of seq 0,
  /// may skip seqs, in increasing order); throws boost::system::system_error naming the path when
  /// the directory or file cannot be created, opened, read, locked (another process holds the
  /// journal) or truncated.
  [[nodiscard]] static Journal open(const std::filesystem::path& state_dir, JournalFileOps ops = {});

  /// What open() hands each record to, in file order, when it is not to keep them.
  using RecordVisitor = std::function<void(boost::json::object record)>;
  /// The same, but each record goes to `visit` as soon as it is read and checked, and none is
  /// kept (records() stays empty): a long journal is replayed without being held in memory
  /// whole. The file is read a chunk at a time. Whatever `visit` throws leaves open() (the file
  /// is closed and unlocked), as do open()'s own errors, which may come after `visit` has seen
  /// the records before the bad line.
  [[nodiscard]] static Journal open(const std::filesystem::path& state_dir, const RecordVisitor& visit,
                                    JournalFileOps ops = {});

  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&& other) noexcept;
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();

  /// The records replayed by open(), in file order (records appended since are not added).
  [[nodiscard]] const std::vector<boost::json::object>& records() const noexcept { return records_; }

  /// Appends `record` (it must hold a string "type") with "seq" set to next_seq() and "time" to
  /// `unix_ms`, written first in that order, as one line `{…}\n` (numbers as to_json_text writes
  /// them; NaN and infinities become null), then fdatasync. Success means the record is durable
  /// and next_seq() moved on. On failure (disk full, I/O error, no "type": invalid_argument) the
  /// file is cut back to its size before the call, next_seq() is unchanged and the error is
  /// returned: no half line stays behind, no seq is lost or repeated. If even the cut fails,
  /// every later append retries it first and fails until it succeeds.
  [[nodiscard]] boost::system::error_code append(boost::json::object record, std::int64_t unix_ms);

  /// Rewrites the journal keeping the records the caller chooses (JournalCompaction in core), in
  /// two passes over the file, so a long journal is never held in memory whole: every record
  /// goes to `see`, in file order; then the file is written anew with `header()` first and each
  /// record i (0-based, file order) for which `keeps(i)`, written as it is read again, to a
  /// temporary file that is locked, fsync'd and renamed over journal.jsonl; the journal as it was
  /// stays as journal.jsonl.1 (replacing an older one). Atomic: after a crash journal.jsonl holds
  /// the old records or all of the new ones. next_seq() does not change. Returns the error, and
  /// leaves everything as it was, when the file cannot be read back or written, or a callback
  /// throws.
  [[nodiscard]] boost::system::error_code compact(const RecordVisitor& see,
                                                  const std::function<boost::json::object()>& header,
                                                  const std::function<bool(std::size_t index)>& keeps);

  /// The seq the next successful append() will write: 1 for an empty journal.
  [[nodiscard]] std::uint64_t next_seq() const noexcept { return next_seq_; }
  /// STATE_DIR/journal.jsonl.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  /// Bytes of a torn last line that open() cut from the end of the file; 0 after a clean shutdown.
  [[nodiscard]] std::uint64_t recovered_bytes() const noexcept { return recovered_bytes_; }
  /// The journal file's size in bytes: where the next record goes.
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

private:
  Journal() = default;
  void close() noexcept;

  int fd_ = -1;
  std::filesystem::path path_;
  std::vector<boost::json::object> records_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t size_ = 0;
  std::uint64_t recovered_bytes_ = 0;
  bool needs_truncate_ = false; // an append failed and could not cut the file back to size_ yet
  JournalFileOps ops_;
};

/// Replaces `path` with `contents` atomically: a temporary file in the same directory (mode
/// 0600), written, fsync'd, renamed over `path`, then the directory fsync'd. Afterwards `path`
/// holds either its old contents or all of `contents`, never a mix; on failure the temporary file
/// is removed and the error returned.
[[nodiscard]] boost::system::error_code write_file_atomically(const std::filesystem::path& path,
                                                              std::string_view contents);

/// Writes STATE_DIR/runtime_config.json atomically (mode 0600): the configuration to restore on
/// restart, {"point": {…}, "value": x, "seq": seq of the journal record that decided it, "time":
/// Unix ms}, as one line of JSON. Returns invalid_argument, writing nothing, when "point" is not
/// an object or "seq" is not an integer.
[[nodiscard]] boost::system::error_code write_runtime_config(const std::filesystem::path& state_dir,
                                                             const boost::json::object& runtime_config);

} // namespace trimtab
