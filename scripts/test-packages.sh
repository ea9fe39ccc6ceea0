#!/usr/bin/env bash
# Packages an existing native build (default build-release/, already built: nothing is compiled here) and checks
# them the way a user gets them:
#   1. cpack -G DEB; the metadata (dpkg-deb -f / -I: name, architecture, version, Depends) and the contents
#      (dpkg-deb -c: binaries, units, man pages, copyright, config, demo model; no file in both packages);
#   2. every QML module the app imports, and what those modules import in turn, comes from a package the app
#      Depends on (Recommends for the optional on-screen keyboard): CPack cannot see QML imports;
#   3. both packages extracted into a throwaway root (dpkg-deb -x; no root rights, nothing installed) and run from
#      there: jetchat-cli --version and a model found by name, jetchat --self-check (offscreen), no RPATH into
#      the build tree;
#   4. the man pages render without warnings and name every subcommand and option the programs' --help lists;
#   5. systemd-analyze verify on the unit files, inside the root (skipped with a notice without systemd), and
#      desktop-file-validate on the desktop entry.
# Usage: scripts/test-packages.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-release}
arch=$(dpkg --print-architecture)
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || { echo "FAIL: no CMakeCache.txt with a project version in $build" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

echo "== cpack"
rm -f "$build"/jetchat*.deb
(cd "$build" && cpack -G DEB >/dev/null)
app_deb="$build/jetchat_${version}_${arch}.deb"
cli_deb="$build/jetchat-cli_${version}_${arch}.deb"
for deb in "$app_deb" "$cli_deb"; do [ -f "$deb" ] || { echo "FAIL: cpack made no $deb" >&2; exit 1; }; done

echo "== metadata and contents"
# deb_has <deb> <path...>: each path is a file in the package.
deb_has() {
  local deb=$1 list; shift
  list=$(dpkg-deb -c "$deb" | awk '{print substr($6, 2)}')
  for f in "$@"; do grep -qx -- "$f" <<<"$list" || fail "$(basename "$deb") has no $f"; done
}
# field_has <deb> <field> <package...>: the control field names each package (any version).
field_has() {
  local deb=$1 field=$2 value; shift 2
  value=$(dpkg-deb -f "$deb" "$field" | tr ',|' '\n\n' | sed 's/([^)]*)//; s/^ *//; s/ *$//')
  for p in "$@"; do grep -qx -- "$p" <<<"$value" || fail "$(basename "$deb") $field lacks $p"; done
}
for deb in "$app_deb" "$cli_deb"; do
  name=$(basename "$deb" | cut -d_ -f1)
  [ "$(dpkg-deb -f "$deb" Package)" = "$name" ] || fail "$deb: Package is not $name"
  [ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] || fail "$deb: Architecture is not $arch"
  [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "$deb: Version is not $version"
  # Every conffile is a file of the package, under /etc.
  dpkg-deb -e "$deb" "$work/control-$name"
  if [ -s "$work/control-$name/conffiles" ]; then
    while read -r conffile; do
      case $conffile in /etc/*) deb_has "$deb" "$conffile" ;; *) fail "$deb: conffile $conffile is not under /etc" ;; esac
    done <"$work/control-$name/conffiles"
  else
    fail "$deb has no conffiles"
  fi
  # Only /usr and /etc: nothing of the build machine's paths.
  stray=$(dpkg-deb -c "$deb" | awk '{print substr($6, 2)}' | grep -vE '^/$|^/(usr|etc)(/|$)' || true)
  [ -z "$stray" ] || fail "$name ships files outside /usr and /etc: $stray"
done
deb_has "$cli_deb" /usr/bin/jetchat-cli /usr/lib/systemd/system/jetchat-api.service /etc/jetchat/api.conf \
  /usr/share/man/man1/jetchat-cli.1.gz /usr/share/doc/jetchat-cli/copyright /usr/share/doc/jetchat-cli/API.md
deb_has "$app_deb" /usr/bin/jetchat /usr/lib/systemd/system/jetchat-kiosk.service /etc/default/jetchat \
  /etc/jetchat/jetchat.conf \
  /usr/libexec/jetchat/jetchat-kiosk-launch /usr/share/applications/jetchat.desktop \
  /usr/share/icons/hicolor/scalable/apps/jetchat.svg /usr/share/man/man1/jetchat.1.gz \
  /usr/share/doc/jetchat/copyright /usr/share/jetchat/models/jetchat-demo/config.json \
  /usr/share/jetchat/models/jetchat-demo/model.safetensors /usr/share/jetchat/models/jetchat-demo/tokenizer.model
# Shared libraries (dpkg-shlibdeps) and what the maintainer scripts call.
field_has "$cli_deb" Depends adduser libc6 libstdc++6 libsentencepiece0 libpcre2-8-0 libutf8proc2 libcpp-httplib0.11
field_has "$app_deb" Depends adduser libc6 libstdc++6 libsentencepiece0 libpcre2-8-0 libutf8proc2 libqt6core6 libqt6gui6 libqt6qml6 libqt6quick6
# A file in both packages makes the second one fail to install.
both=$(comm -12 <(dpkg-deb -c "$app_deb" | grep -v '^d' | awk '{print $6}' | sort) \
                <(dpkg-deb -c "$cli_deb" | grep -v '^d' | awk '{print $6}' | sort))
[ -z "$both" ] || fail "files in both packages: $both"
# Every Depends is installed here (so the self-check below runs with exactly those names satisfied).
for group in $(dpkg-deb -f "$app_deb" Depends | sed 's/([^)]*)//g; s/ //g' | tr ',' ' '); do
  ok=0
  for p in ${group//|/ }; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] && ok=1
  done
  if [ "$ok" = 0 ]; then
    case $group in
      # A CUDA toolkit installed from NVIDIA's .run file is owned by no package: nothing to compare with.
      cuda-*|libcublas-*) echo "NOTICE: $group (a CUDA build's dependency) is not installed as a package here" ;;
      *) fail "jetchat Depends on $group, which is not installed here" ;;
    esac
  fi
done

echo "== QML modules the app imports come from its Depends"
qml_root=$(qtpaths6 --query QT_INSTALL_QML)
optional="QtQuick.VirtualKeyboard QtQuick.VirtualKeyboard.Settings"  # loaded only when installed (kiosk keyboard)
queue=$(grep -rhoE '^import [A-Za-z][A-Za-z0-9.]*' qml | awk '{print $2}' | grep -v '^JetChat' | sort -u)
seen=" "
while [ -n "$queue" ]; do
  module=${queue%%$'\n'*}
  [ "$queue" = "$module" ] && queue="" || queue=${queue#*$'\n'}
  case "$seen" in *" $module "*) continue ;; esac
  seen="$seen$module "
  qmldir="$qml_root/${module//.//}/qmldir"
  if [ ! -f "$qmldir" ]; then fail "QML module $module: no $qmldir"; continue; fi
  owner=$(dpkg -S "$qmldir" 2>/dev/null | cut -d: -f1 | head -1)
  [ -n "$owner" ] || { fail "QML module $module: $qmldir belongs to no package"; continue; }
  case " $optional " in
    *" $module "*) field_has "$app_deb" Recommends "$owner" ;;
    *) field_has "$app_deb" Depends "$owner"
       # What this module needs too (not its optional styles).
       queue=$(printf '%s\n%s' "$queue" "$(sed -nE 's/^(default )?import ([A-Za-z0-9.]+).*/\2/p' "$qmldir")" | sed '/^$/d') ;;
  esac
done
echo "modules:$seen"

echo "== installed into a throwaway root"
root=$work/root
home=$work/home  # no user models or settings of whoever runs this
mkdir -p "$root" "$home" "$work/runtime" && chmod 700 "$work/runtime"
for deb in "$cli_deb" "$app_deb"; do dpkg-deb -x "$deb" "$root"; done
in_root() { env -i PATH=/usr/bin:/bin HOME="$home" XDG_RUNTIME_DIR="$work/runtime" LANG=C.UTF-8 "$@"; }
for bin in jetchat jetchat-cli; do
  rpath=$(readelf -d "$root/usr/bin/$bin" | grep -E 'RPATH|RUNPATH' || true)
  case "$rpath" in *"$PWD"*) fail "$bin has an RPATH into the checkout: $rpath" ;; esac
done
got=$(in_root "$root/usr/bin/jetchat-cli" --version)
[ "$got" = "jetchat-cli $version" ] || fail "jetchat-cli --version printed '$got'"
# A bare model name resolves beside the installed binary (<root>/usr/share/jetchat/models).
info=$(in_root "$root/usr/bin/jetchat-cli" info jetchat-demo --json) || fail "jetchat-cli info jetchat-demo failed"
grep -q '"architecture": *"LlamaForCausalLM"' <<<"$info" || fail "jetchat-cli info jetchat-demo: $info"
if self_check=$(in_root "$root/usr/bin/jetchat" --self-check 2>"$work/self-check.err"); then :; else
  fail "jetchat --self-check exited $?"; cat "$work/self-check.err" >&2
fi
echo "$self_check"
grep -q "^ok    model  jetchat-demo from $root/usr/share/jetchat/models/jetchat-demo " <<<"$self_check" ||
  fail "the self-check did not load the installed demo model"
# And it fails, naming the step, when the model cannot be loaded.
if bad=$(in_root "$root/usr/bin/jetchat" --self-check --model "$work/no-such-model" 2>/dev/null); then
  fail "jetchat --self-check passed with a missing model"
fi
grep -q "^FAIL  model  .*no-such-model" <<<"$bad" || fail "jetchat --self-check with a missing model printed: $bad"

echo "== man pages"
for page in jetchat jetchat-cli; do
  gz=$root/usr/share/man/man1/$page.1.gz
  warnings=$(zcat "$gz" | groff -man -Tutf8 -ww -z 2>&1)
  [ -z "$warnings" ] || fail "$page.1: $warnings"
done
# man_source <page>: its roff source with \- as plain hyphens.
man_source() { zcat "$root/usr/share/man/man1/$1.1.gz" | sed 's/\\-/-/g'; }
# man_names <page> <option...>: the page names each option.
man_names() {
  local page=$1 src; src=$(man_source "$page"); shift
  for o in "$@"; do grep -qF -- "$o" <<<"$src" || fail "$page.1 lacks $o"; done
}
options_of() { grep -oE '(^|[ ,])--[a-z0-9-]+' | sed 's/^[ ,]*//' | sort -u; }
man_names jetchat $(in_root "$root/usr/bin/jetchat" --help | options_of)
cli_help=$(in_root "$root/usr/bin/jetchat-cli" --help)
subcommands=$(sed -n '/^Subcommands:/,$p' <<<"$cli_help" | awk 'NR > 1 && NF {print $1}')
[ -n "$subcommands" ] || fail "jetchat-cli --help lists no subcommands"
for sub in $subcommands; do
  grep -q "^\.SS \"$sub " <<<"$(man_source jetchat-cli)" || fail "jetchat-cli.1 has no section for $sub"
  man_names jetchat-cli $(in_root "$root/usr/bin/jetchat-cli" "$sub" --help | options_of)
done

echo "== systemd-analyze verify"
if command -v systemd-analyze >/dev/null; then
  # Inside the root, so that ExecStart= finds the packaged programs; the system's own units (targets the ours
  # are ordered against) copied beside them.
  cp -rn /usr/lib/systemd/system/. "$root/usr/lib/systemd/system/"
  # Warnings (unknown keys, bad values) leave the exit status at 0: any output is a failure.
  if ! out=$(systemd-analyze verify --root="$root" jetchat-kiosk.service jetchat-api.service 2>&1) || [ -n "$out" ]; then
    fail "systemd-analyze verify: $out"
  fi
else
  echo "SKIPPED: no systemd-analyze (scripts/install-deps.sh installs systemd)"
fi
sh -n "$root/usr/libexec/jetchat/jetchat-kiosk-launch" || fail "jetchat-kiosk-launch: shell syntax"
# The desktop entry (warnings count too: menus drop entries they do not understand).
if ! out=$(desktop-file-validate "$root/usr/share/applications/jetchat.desktop" 2>&1) || [ -n "$out" ]; then
  fail "jetchat.desktop: $out"
fi

if [ "$failures" -gt 0 ]; then
  echo "packages: $failures check(s) failed" >&2
  exit 1
fi
echo "packages: $(basename "$app_deb") $(basename "$cli_deb") passed"
