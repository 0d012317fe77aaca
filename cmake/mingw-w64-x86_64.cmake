# mingw-w64-x86_64.cmake - cross-compile for 64-bit Windows with Debian's
# mingw-w64 (x86_64-w64-mingw32-gcc, win32 thread model).
#
#   cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake
#
# Every program is linked statically (no DLLs beside the .exe), targets
# Windows 7 / Server 2008 R2 and later (_WIN32_WINNT 0x0601), and ctest runs
# the .exe tests under wine.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(TMI_MINGW_PREFIX x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${TMI_MINGW_PREFIX}-gcc)
set(CMAKE_RC_COMPILER ${TMI_MINGW_PREFIX}-windres)
set(CMAKE_AR ${TMI_MINGW_PREFIX}-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${TMI_MINGW_PREFIX}-ranlib CACHE FILEPATH "")

set(CMAKE_FIND_ROOT_PATH /usr/${TMI_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# __USE_MINGW_ANSI_STDIO: C99 printf formats (%zu, %lld) in every program.
add_compile_definitions(_WIN32_WINNT=0x0601 WINVER=0x0601 __USE_MINGW_ANSI_STDIO=1)
add_link_options(-static -static-libgcc)

find_program(TMI_WINE wine)
if(TMI_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${TMI_WINE})
endif()
