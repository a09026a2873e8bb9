#pragma once

// For a source file whose coroutines GCC 12 warns about at -O2: it misreads Boost.Asio's coroutine
// frame allocator (-Wmismatched-new-delete, a false positive: chriskohlhoff/asio#1391). The pragma
// holds from the include to the end of that one file; drop this header when GCC no longer warns.

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
