# Dependencies.cmake - imported targets for the third-party libraries.
#
# On Linux they come from Debian's -dev packages. Each becomes an INTERFACE
# target tmi::<name> so the layers link the same way on every platform.
# The Windows (mingw-w64) build compiles them from Debian's source packages
# instead: see WindowsDeps.cmake.
if(WIN32)
  include(WindowsDeps)
  return()
endif()

find_package(PkgConfig REQUIRED)

pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
add_library(tmi_dep_cjson INTERFACE)
target_link_libraries(tmi_dep_cjson INTERFACE PkgConfig::CJSON)
add_library(tmi::cjson ALIAS tmi_dep_cjson)

pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3)
add_library(tmi_dep_sqlite INTERFACE)
target_link_libraries(tmi_dep_sqlite INTERFACE PkgConfig::SQLITE)
add_library(tmi::sqlite ALIAS tmi_dep_sqlite)

pkg_check_modules(CRYPTO REQUIRED IMPORTED_TARGET libcrypto)
add_library(tmi_dep_crypto INTERFACE)
target_link_libraries(tmi_dep_crypto INTERFACE PkgConfig::CRYPTO)
add_library(tmi::crypto ALIAS tmi_dep_crypto)

find_package(Threads REQUIRED)

if(TMI_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
  add_library(tmi_dep_cmocka INTERFACE)
  target_link_libraries(tmi_dep_cmocka INTERFACE PkgConfig::CMOCKA)
  add_library(tmi::cmocka ALIAS tmi_dep_cmocka)
endif()
