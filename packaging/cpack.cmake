# Install layout and Debian packages (CPack DEB), included last from the top-level CMakeLists.txt.
#   cmake --install <build> --prefix /tmp/root         a throwaway root (config lands in <prefix>/etc)
#   (cd <build> && cpack -G DEB)                        jetchat_<ver>_<arch>.deb and jetchat-cli_<ver>_<arch>.deb
# Components: jetchat (the Qt app, its desktop entry, icon, demo model, kiosk unit) and jetchat-cli (engine CLI and
# OpenAI-compatible server, API unit, /etc/jetchat/api.conf); each with its man page (packaging/man) and the Debian
# copyright file (packaging/copyright). Package names below are Ubuntu 22.04's (JetPack 6) and Debian 12's.
# Shared-library dependencies come from dpkg-shlibdeps; what it cannot see (QML modules the app imports at run time,
# tools the units call) is listed here. scripts/test-packages.sh checks the result.
include(GNUInstallDirs)
set(_pkg ${CMAKE_CURRENT_LIST_DIR})

# dpkg-shlibdeps looks the libraries up in the dpkg database: a cross build's target libraries are not installed
# there (scripts/test-aarch64.sh extracts them), so cross builds list them by hand below.
if(CMAKE_CROSSCOMPILING)
  set(_shlibdeps_default OFF)
else()
  set(_shlibdeps_default ON)
endif()
option(JETCHAT_DEB_SHLIBDEPS "Compute the packages' library dependencies with dpkg-shlibdeps" ${_shlibdeps_default})

# /etc for a /usr install (the packages), <prefix>/etc for any other prefix; decided at install time so that
# `cmake --install --prefix /tmp/x` never writes to the real /etc. file(INSTALL) prepends $DESTDIR itself.
function(jetchat_install_etc component subdir)
  set(_files "")
  foreach(f IN LISTS ARGN)
    string(APPEND _files " \"${f}\"")
  endforeach()
  install(CODE "
    if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
      set(_etc /etc)
    else()
      set(_etc \"\${CMAKE_INSTALL_PREFIX}/etc\")
    endif()
    file(INSTALL DESTINATION \"\${_etc}/${subdir}\" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ FILES ${_files})
  " COMPONENT ${component})
endfunction()

set(_unitdir lib/systemd/system)  # under the prefix: /usr/lib/systemd/system
set(_components jetchat-cli)

# Man pages, compressed as Debian installs them (gzip -n: no time stamp, the same bytes every build).
function(jetchat_install_man component page)
  set(_src ${_pkg}/man/${page})
  set(_gz ${CMAKE_CURRENT_BINARY_DIR}/man/${page}.gz)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_src})
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/man)
  execute_process(COMMAND gzip -9nc ${_src} OUTPUT_FILE ${_gz} RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "gzip ${_src} failed: ${_rc}")
  endif()
  install(FILES ${_gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT ${component})
endfunction()

# ---- jetchat-cli ----
install(FILES ${_pkg}/systemd/jetchat-api.service DESTINATION ${_unitdir} COMPONENT jetchat-cli)
jetchat_install_etc(jetchat-cli jetchat ${_pkg}/api.conf)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/API.md ${PROJECT_SOURCE_DIR}/docs/JETSON.md
              ${_pkg}/copyright
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/jetchat-cli COMPONENT jetchat-cli)
jetchat_install_man(jetchat-cli jetchat-cli.1)

# ---- jetchat (the app) ----
if(TARGET jetchat)
  list(APPEND _components jetchat)
  install(FILES ${_pkg}/jetchat.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications COMPONENT jetchat)
  install(FILES ${_pkg}/jetchat.svg DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps COMPONENT jetchat)
  # The app looks for built-in models in <bindir>/../share/jetchat/models.
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/resources/models/jetchat-demo
          DESTINATION ${CMAKE_INSTALL_DATADIR}/jetchat/models COMPONENT jetchat)
  install(PROGRAMS ${_pkg}/jetchat-kiosk-launch DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/jetchat COMPONENT jetchat)
  install(FILES ${_pkg}/systemd/jetchat-kiosk.service DESTINATION ${_unitdir} COMPONENT jetchat)
  jetchat_install_etc(jetchat default ${_pkg}/default/jetchat)
  jetchat_install_etc(jetchat jetchat ${_pkg}/jetchat.conf)
  install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/JETSON.md ${_pkg}/copyright
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/jetchat COMPONENT jetchat)
  jetchat_install_man(jetchat jetchat.1)
endif()

# ---- CPack ----
set(CPACK_PACKAGE_NAME jetchat)
set(CPACK_PACKAGE_VENDOR "JetChat")
set(CPACK_PACKAGE_CONTACT "JetChat maintainers <jetchat@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: each package's synopsis is the first line of its description below.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL ${_components})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/jetchat/jetchat")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ${JETCHAT_DEB_SHLIBDEPS})
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Libraries dpkg-shlibdeps finds itself; named here only when it is off (scripts/test-aarch64.sh checks that these
# cover what dpkg-shlibdeps finds for the native jetchat-cli).
set(_libdeps "")
if(NOT JETCHAT_DEB_SHLIBDEPS)
  set(_libdeps ", libc6, libgcc-s1, libstdc++6, libsentencepiece0, libpcre2-8-0, libutf8proc2, libcpp-httplib0.11")
endif()
# A CUDA build links the CUDA runtime and cuBLAS dynamically. They come from NVIDIA's apt repositories (on Jetson,
# JetPack's); a toolkit installed by a .run file is owned by no package, which dpkg-shlibdeps silently skips.
option(JETCHAT_DEB_CUDA_DEPENDS "CUDA builds: depend on cuda-cudart-X-Y and libcublas-X-Y" ON)
if(JETCHAT_HAVE_CUDA AND JETCHAT_DEB_CUDA_DEPENDS AND CMAKE_CUDA_COMPILER_VERSION MATCHES "^([0-9]+)\\.([0-9]+)")
  string(APPEND _libdeps ", cuda-cudart-${CMAKE_MATCH_1}-${CMAKE_MATCH_2}, libcublas-${CMAKE_MATCH_1}-${CMAKE_MATCH_2}")
endif()
# Cross builds: CPack would ask dpkg for the build machine's architecture.
if(CMAKE_CROSSCOMPILING)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64)$")
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
  endif()
endif()

# conffiles: what dpkg keeps when the admin has edited it.
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/deb/jetchat-cli/conffiles "/etc/jetchat/api.conf\n")
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/deb/jetchat/conffiles "/etc/default/jetchat\n/etc/jetchat/jetchat.conf\n")

set(CPACK_DEBIAN_JETCHAT-CLI_PACKAGE_NAME jetchat-cli)
set(CPACK_DEBIAN_JETCHAT-CLI_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_JETCHAT-CLI_DESCRIPTION "JetChat LLM engine command line and OpenAI-compatible server
jetchat-cli runs Llama, InternLM2, InternLM and Qwen2 models (16-bit or 4-bit AWQ) on the CPU or with
CUDA: chat, generate, quantize, bench, and serve, an OpenAI-compatible HTTP API. jetchat-api.service
(disabled by default) serves one model on 127.0.0.1; configure it in /etc/jetchat/api.conf.")
set(CPACK_DEBIAN_JETCHAT-CLI_PACKAGE_DEPENDS "adduser${_libdeps}")
set(CPACK_DEBIAN_JETCHAT-CLI_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_JETCHAT-CLI_PACKAGE_CONTROL_EXTRA
    "${_pkg}/debian/jetchat-cli/postinst;${_pkg}/debian/jetchat-cli/prerm;${_pkg}/debian/jetchat-cli/postrm;${CMAKE_CURRENT_BINARY_DIR}/deb/jetchat-cli/conffiles")

set(CPACK_DEBIAN_JETCHAT_PACKAGE_NAME jetchat)
set(CPACK_DEBIAN_JETCHAT_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_JETCHAT_DESCRIPTION "JetChat offline assistant for touch screens and kiosks (Qt Quick app)
A chat app for a language model that runs on the device itself, offline, with a built-in demo model,
an English and Chinese UI and an on-screen keyboard. jetchat-kiosk.service (disabled by default) shows
it fullscreen at boot through cage, weston or EGLFS; choose in /etc/default/jetchat.")
set(CPACK_DEBIAN_JETCHAT_PACKAGE_SECTION x11)
# QML modules are loaded at run time: dpkg-shlibdeps cannot see them.
set(CPACK_DEBIAN_JETCHAT_PACKAGE_DEPENDS
    "adduser${_libdeps}, qml6-module-qtquick, qml6-module-qtquick-controls, qml6-module-qtquick-layouts, qml6-module-qtquick-window, qml6-module-qtquick-templates, qml6-module-qtqml, qml6-module-qtqml-models, qml6-module-qtqml-workerscript, qml6-module-qt-labs-folderlistmodel")
set(CPACK_DEBIAN_JETCHAT_PACKAGE_RECOMMENDS
    "jetchat-cli, qml6-module-qtquick-virtualkeyboard, qt6-virtualkeyboard-plugin, fonts-noto-cjk, fonts-noto-color-emoji, qt6-wayland, qt6-qpa-plugins, libqt6opengl6, cage | weston")
set(CPACK_DEBIAN_JETCHAT_PACKAGE_CONTROL_EXTRA
    "${_pkg}/debian/jetchat/postinst;${_pkg}/debian/jetchat/prerm;${_pkg}/debian/jetchat/postrm;${CMAKE_CURRENT_BINARY_DIR}/deb/jetchat/conffiles")

include(CPack)
