#pragma once

namespace trimtab::demo {

/// examples/demo/tuning.yaml, compiled in: what `trimtab demo` tunes the demo service with.
extern const char* const bundled_tuning_yaml;

} // namespace trimtab::demo
