# Warnings and sanitizers as INTERFACE targets, linked PRIVATE (and only in the build tree) by
# every trimtab target, so they never leak into a host's flags through the installed package.
add_library(trimtab_warnings INTERFACE)
target_compile_options(trimtab_warnings INTERFACE -Wall -Wextra -Wpedantic)

add_library(trimtab_sanitizers INTERFACE)
if(TRIMTAB_FUZZ)
  # Coverage for libFuzzer in every library the targets link, not just in the targets.
  target_compile_options(trimtab_sanitizers INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(trimtab_sanitizers INTERFACE -fsanitize=address,undefined)
elseif(TRIMTAB_SANITIZE)
  target_compile_options(trimtab_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(trimtab_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

# trimtab_target_defaults(<target>): the flags every target of ours is built with.
function(trimtab_target_defaults target)
  target_link_libraries(${target} PRIVATE
    $<BUILD_INTERFACE:trimtab_warnings> $<BUILD_INTERFACE:trimtab_sanitizers>)
endfunction()

# trimtab_optimise_for_size(<target>): -Os instead of -O2 in optimised builds, for code that waits
# on I/O (the agent, its adapters, the config and the CLI). Every page of the binary's text that runs
# stays resident (the kernel maps 64 KiB around each page that faults), so the text's size is the
# daemon's footprint: -Os takes the agent's RSS from 10.6 to 10.0 MiB (README). core/, whose solver
# and metrics parser do the CPU-bound work, keeps -O2, as does the demo service.
function(trimtab_optimise_for_size target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE $<$<CONFIG:Release,RelWithDebInfo>:-Os>)
  endif()
endfunction()

# trimtab_library(<folder>): the library of one top-level folder, named trimtab::<folder>, with its
# public headers under <folder>/include/trimtab/<folder>/.
function(trimtab_library folder)
  add_library(trimtab_${folder} ${ARGN})
  add_library(trimtab::${folder} ALIAS trimtab_${folder})
  # PIC, so a host may link the installed libraries into a shared object; hidden and not
  # interposable, so PIC costs nothing inside them: with default visibility GCC routes calls between
  # the library's own functions through the PLT and will not inline them, which made bench/parse 40 %
  # slower (550-620 MB/s against 930-1020 without PIC, idle machine). A shared object built on them
  # exports none of their symbols.
  set_target_properties(trimtab_${folder} PROPERTIES EXPORT_NAME ${folder} POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(trimtab_${folder} PRIVATE -fno-semantic-interposition)
  endif()
  target_include_directories(trimtab_${folder} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(trimtab_${folder} PUBLIC cxx_std_20)
  trimtab_target_defaults(trimtab_${folder})
  install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
endfunction()
