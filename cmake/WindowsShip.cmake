# WindowsShip.cmake - the shipped form of a Windows program.
#
#   tmi_windows_ship(TARGET)
#
# makes, after TARGET is linked, <build>/dist/TARGET.exe: the program with its
# DWARF debug information and symbol table stripped (objcopy --strip-all), and
# <build>/dist/TARGET.debug: that debug information alone (objcopy
# --only-keep-debug). The shipped exe names the debug file in a
# .gnu_debuglink section (file name and CRC32 of the debug file), and both
# carry the same build ID (the CodeView record that -Wl,--build-id writes), so
# gdb / addr2line symbolise a crash address or a minidump of the shipped exe
# with the debug file beside it or in a debug folder. The linked exe in its
# own build folder keeps everything (the tests and a debugger use it as is).
function(tmi_windows_ship target)
  if(NOT CMAKE_OBJCOPY)
    message(FATAL_ERROR "tmi_windows_ship: no objcopy for the Windows toolchain")
  endif()
  target_link_options(${target} PRIVATE -Wl,--build-id)
  set(dist ${CMAKE_BINARY_DIR}/dist)
  set(exe ${dist}/${target}.exe)
  set(dbg ${dist}/${target}.debug)
  add_custom_command(
    OUTPUT ${exe} ${dbg}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dist}
    COMMAND ${CMAKE_OBJCOPY} --only-keep-debug $<TARGET_FILE:${target}> ${dbg}
    COMMAND ${CMAKE_OBJCOPY} --strip-all --add-gnu-debuglink=${dbg} $<TARGET_FILE:${target}>
            ${exe}
    DEPENDS ${target}
    COMMENT "dist/${target}.exe (stripped) and dist/${target}.debug"
    VERBATIM)
  add_custom_target(${target}-ship ALL DEPENDS ${exe} ${dbg})
endfunction()
