# Cross-compiling for aarch64 (Jetson's CPU) with Debian's g++-aarch64-linux-gnu; tests run under qemu-user.
# Used by scripts/test-aarch64.sh, which fills JETCHAT_AARCH64_SYSROOT with the arm64 -dev packages the build needs
# (extracted, not installed: libsentencepiece-dev is not Multi-Arch co-installable with the amd64 one).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(NOT JETCHAT_AARCH64_SYSROOT)
  set(JETCHAT_AARCH64_SYSROOT "$ENV{JETCHAT_AARCH64_SYSROOT}")
endif()
if(NOT JETCHAT_AARCH64_SYSROOT)
  message(FATAL_ERROR "set JETCHAT_AARCH64_SYSROOT (scripts/test-aarch64.sh does)")
endif()
set(JETCHAT_AARCH64_SYSROOT "${JETCHAT_AARCH64_SYSROOT}" CACHE PATH "Extracted arm64 packages" FORCE)
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES JETCHAT_AARCH64_SYSROOT)  # try_compile projects need it too
set(_libdir "${JETCHAT_AARCH64_SYSROOT}/usr/lib/aarch64-linux-gnu")

set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu "${JETCHAT_AARCH64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config sees only the arm64 .pc files.
set(ENV{PKG_CONFIG_LIBDIR} "${_libdir}/pkgconfig:${JETCHAT_AARCH64_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${JETCHAT_AARCH64_SYSROOT}")
set(ENV{PKG_CONFIG_PATH} "")

# Shared libraries' own dependencies (libcpp-httplib -> libssl3, ...) resolve from the extracted tree.
# (zlib1g and others still install to /lib/aarch64-linux-gnu in Debian 12.)
set(_libpath "${_libdir}:${JETCHAT_AARCH64_SYSROOT}/lib/aarch64-linux-gnu")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_libpath}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_libpath}")

# gtest_discover_tests and ctest run the test binaries through qemu.
find_program(JETCHAT_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR "${JETCHAT_QEMU_AARCH64};-L;/usr/aarch64-linux-gnu;-E;LD_LIBRARY_PATH=${_libpath}")
