#!/usr/bin/env bash
# Installs what JetChat needs to build and test, from Debian 12 / Ubuntu 22.04 packages. Run as root or with sudo.
#   scripts/install-deps.sh          engine, CLI, tests
#   scripts/install-deps.sh --app    also the Qt 6 app and its tests
#   scripts/install-deps.sh --aarch64  also the aarch64 cross compiler, qemu-user, file and the arm64 apt sources
#                                      for scripts/test-aarch64.sh (which downloads and extracts the arm64 -dev
#                                      packages, and checks the arm64 package)
set -euo pipefail
want_app=0 want_aarch64=0
for a in "$@"; do
  [ "$a" = --app ] && want_app=1
  [ "$a" = --aarch64 ] && want_aarch64=1
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# systemd (systemd-analyze verify), groff-base (man pages rendered) and desktop-file-utils: scripts/test-packages.sh.
pkgs=(build-essential cmake ninja-build ccache pkg-config git
      libsentencepiece-dev sentencepiece libpcre2-dev libutf8proc-dev nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev
      libcpp-httplib-dev nodejs curl systemd groff-base desktop-file-utils)
if [ "$want_app" = 1 ]; then
  pkgs+=(qt6-base-dev qt6-base-dev-tools qt6-declarative-dev qt6-declarative-dev-tools qt6-tools-dev qt6-tools-dev-tools
         qt6-l10n-tools qt6-qpa-plugins libgl-dev libvulkan-dev libqt6opengl6-dev
         qml6-module-qtquick qml6-module-qtquick-controls qml6-module-qtquick-layouts
         qml6-module-qtquick-window qml6-module-qtquick-templates qml6-module-qtqml
         qml6-module-qtqml-models qml6-module-qtqml-workerscript qml6-module-qttest
         qml6-module-qt-labs-folderlistmodel qt6-virtualkeyboard-dev qt6-virtualkeyboard-plugin
         qml6-module-qtquick-virtualkeyboard fonts-noto-cjk fonts-noto-color-emoji)
fi
need_update=0
if [ "$want_aarch64" = 1 ]; then
  pkgs+=(g++-aarch64-linux-gnu qemu-user file)
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
    need_update=1
  fi
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ] || [ "$need_update" = 1 ]; then
  $SUDO apt-get update -qq
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The official OpenAI JavaScript client (no dependencies of its own), for the test that a standard client library
# chats with `jetchat-cli serve`: from the npm registry, checked against its published sha512, into .deps/.
openai_js="$(cd "$(dirname "$0")/.." && pwd)/.deps/openai-js"
if [ ! -f "$openai_js/package/index.mjs" ]; then
  mkdir -p "$openai_js"
  curl -sSfL https://registry.npmjs.org/openai/-/openai-5.12.0.tgz -o "$openai_js/openai.tgz"
  echo "bd476dd36c625a03878985265b41e3d50bbd38a022550bb905de78ee4b550a230a0b50640792f72267849c2caadd6a51291e994da3e07a4cea768cf074fb3b2e  $openai_js/openai.tgz" |
    sha512sum -c --quiet
  tar -xzf "$openai_js/openai.tgz" -C "$openai_js" && rm "$openai_js/openai.tgz"
fi
