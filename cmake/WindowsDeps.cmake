# WindowsDeps.cmake - the third-party libraries of the Windows (mingw-w64)
# build, compiled from Debian's source packages. Included by Dependencies.cmake
# when WIN32.
#
# There are no mingw packages of SQLite, cJSON or cmocka, so
# cmake/fetch-windows-deps.sh fetches their Debian source packages
# (`apt-get source`) into <build>/_deps/ and makes the SQLite amalgamation;
# the libraries are then ordinary static targets of this build, compiled by
# the cross compiler with their own flags and warnings off. Fetching runs at
# configure time and is skipped when its stamps are there, and the objects are
# kept by the build folder, so a rebuild neither fetches nor recompiles them.
# Set TMI_WINDEPS_DIR to use another (already fetched) folder.
#
# Targets, as on Linux: tmi::cjson, tmi::sqlite, tmi::cmocka
# (when TMI_TESTS), Threads::Threads; crypto is the system's CNG (bcrypt), so
# there is no tmi::crypto.

set(TMI_WINDEPS_DIR "${CMAKE_BINARY_DIR}/_deps" CACHE PATH
    "Where the Windows build's third-party sources are fetched to")

execute_process(
  COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/fetch-windows-deps.sh" "${TMI_WINDEPS_DIR}"
  OUTPUT_VARIABLE tmi_windeps_out
  RESULT_VARIABLE tmi_windeps_rc)
if(NOT tmi_windeps_rc EQUAL 0)
  message(FATAL_ERROR "fetching the Windows dependencies failed (see above)")
endif()
string(REPLACE "\n" ";" tmi_windeps_lines "${tmi_windeps_out}")
foreach(line IN LISTS tmi_windeps_lines)
  if(line MATCHES "^([a-z_0-9]+)=(.*)$")
    set(TMI_WINDEPS_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
  endif()
endforeach()
foreach(name cjson cmocka sqlite_amalgamation)
  if(NOT IS_DIRECTORY "${TMI_WINDEPS_${name}}")
    message(FATAL_ERROR "fetch-windows-deps.sh did not report a folder for ${name}")
  endif()
endforeach()

# Third-party code: its own flags, no warnings (the project's -Werror is for
# the project's code).
function(tmi_third_party target)
  set_property(TARGET ${target} PROPERTY COMPILE_OPTIONS -w)
  set_property(TARGET ${target} PROPERTY C_EXTENSIONS ON)
endfunction()

find_package(Threads REQUIRED)

# cJSON: the project includes <cjson/cJSON.h>, as with Debian's libcjson-dev.
set(tmi_cjson_inc "${TMI_WINDEPS_DIR}/include")
file(COPY "${TMI_WINDEPS_cjson}/cJSON.h" DESTINATION "${tmi_cjson_inc}/cjson")
add_library(tmi_dep_cjson STATIC "${TMI_WINDEPS_cjson}/cJSON.c")
tmi_third_party(tmi_dep_cjson)
target_compile_definitions(tmi_dep_cjson PUBLIC CJSON_HIDE_SYMBOLS)
target_include_directories(tmi_dep_cjson PUBLIC "${tmi_cjson_inc}")
add_library(tmi::cjson ALIAS tmi_dep_cjson)

# SQLite: the amalgamation made from Debian's source by `make sqlite3.c`.
add_library(tmi_dep_sqlite STATIC "${TMI_WINDEPS_sqlite_amalgamation}/sqlite3.c")
tmi_third_party(tmi_dep_sqlite)
target_compile_definitions(tmi_dep_sqlite PRIVATE SQLITE_THREADSAFE=1 SQLITE_DEFAULT_WAL_SYNCHRONOUS=1
                           SQLITE_ENABLE_COLUMN_METADATA SQLITE_OMIT_LOAD_EXTENSION SQLITE_WIN32_MALLOC)
target_include_directories(tmi_dep_sqlite PUBLIC "${TMI_WINDEPS_sqlite_amalgamation}")
add_library(tmi::sqlite ALIAS tmi_dep_sqlite)

if(TMI_TESTS)
  # cmocka: one source file; the few configure results it needs, for mingw.
  add_library(tmi_dep_cmocka STATIC "${TMI_WINDEPS_cmocka}/src/cmocka.c")
  tmi_third_party(tmi_dep_cmocka)
  target_compile_definitions(tmi_dep_cmocka PRIVATE HAVE_MALLOC_H HAVE_INTTYPES_H HAVE_SIGNAL_H
                             HAVE_STRINGS_H HAVE_GCC_THREAD_LOCAL_STORAGE HAVE_STRUCT_TIMESPEC)
  # cmocka.h marks print_error() & co. as "printf" formats, which mingw's gcc
  # checks as msvcrt's printf (no %zu); the build uses the C99 printf
  # (__USE_MINGW_ANSI_STDIO), so the header is copied with gnu_printf instead.
  file(READ "${TMI_WINDEPS_cmocka}/include/cmocka.h" tmi_cmocka_h)
  string(REPLACE "__format__ (__printf__" "__format__ (__gnu_printf__" tmi_cmocka_h
                 "${tmi_cmocka_h}")
  file(WRITE "${TMI_WINDEPS_DIR}/cmocka.h.tmp" "${tmi_cmocka_h}")
  configure_file("${TMI_WINDEPS_DIR}/cmocka.h.tmp" "${TMI_WINDEPS_DIR}/include/cmocka/cmocka.h"
                 COPYONLY)
  target_include_directories(tmi_dep_cmocka PUBLIC "${TMI_WINDEPS_DIR}/include/cmocka")
  target_include_directories(tmi_dep_cmocka PRIVATE "${TMI_WINDEPS_cmocka}/include")
  add_library(tmi::cmocka ALIAS tmi_dep_cmocka)
endif()

# What the Win32 backend links: CNG, the SCM / registry / event log / security
# (advapi32), known folders (shell32, ole32), version resources (version, for
# the cross-check only), signatures (wintrust: WinVerifyTrust and catalogs;
# crypt32: CryptoAPI).
set(TMI_WIN32_SYSTEM_LIBS bcrypt advapi32 shell32 ole32 userenv wintrust crypt32)
