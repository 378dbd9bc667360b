#!/usr/bin/env bash
# Builds libused_insight (shared and static) and installs it, with its header
# and pkg-config files, under a prefix:
#
#   scripts/install-c.sh /usr/local            # then: pkg-config --cflags --libs used_insight
#
# Installs
#   PREFIX/include/used_insight.h
#   LIBDIR/libused_insight.so.VERSION, .so.ABI (the soname) and .so -> links
#   LIBDIR/libused_insight.a
#   LIBDIR/pkgconfig/used_insight.pc          shared library
#   LIBDIR/pkgconfig/used_insight-static.pc   static library (+ the system libraries it needs)
#   LIBDIR/cmake/used_insight/used_insightConfig.cmake, used_insightConfigVersion.cmake
#                                             CMake package: find_package(used_insight CONFIG)
#                                             gives used_insight::used_insight (shared) and
#                                             used_insight::used_insight_static
#
# Environment: PROFILE=release|debug (default release); LIBDIR (default
# PREFIX/lib); DESTDIR, a staging root prepended to every installed path (for
# packagers; the .pc files still name PREFIX); CARGO_BUILD_JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 1 ]; then
  echo "usage: scripts/install-c.sh PREFIX" >&2
  exit 2
fi
prefix=$1
case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac
libdir=${LIBDIR:-$prefix/lib}
profile=${PROFILE:-release}
dest=${DESTDIR:-}
jobs=${CARGO_BUILD_JOBS:-2}

case "$profile" in
  release) profile_flag=(--release) ;;
  debug) profile_flag=() ;;
  *) echo "PROFILE must be release or debug" >&2; exit 2 ;;
esac

# One build makes both libraries (crate-type cdylib + staticlib); rustc also
# names the system libraries a static link needs (replayed by cargo when the
# build is fresh).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo rustc -j"$jobs" -p used-insight-ffi --lib "${profile_flag[@]}" -- --print native-static-libs 2>"$log" || {
  cat "$log" >&2
  exit 1
}
native_libs=$(sed -n 's/^note: native-static-libs: //p' "$log" | tail -1)
if [ -z "$native_libs" ]; then
  echo "error: rustc did not report the native libraries of the static library" >&2
  cat "$log" >&2
  exit 1
fi

version=$(cargo pkgid -p used-insight-ffi | sed 's/.*[#@]//')
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
# The soname set by ffi/build.rs: MAJOR, or 0.MINOR while MAJOR is 0.
if [ "$major" = 0 ]; then abi="0.$minor"; else abi=$major; fi

target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
out="$target_dir/$profile"

install -d "$dest$prefix/include" "$dest$libdir/pkgconfig" "$dest$libdir/cmake/used_insight"
install -m 644 include/used_insight.h "$dest$prefix/include/"
install -m 644 "$out/libused_insight.a" "$dest$libdir/"
install -m 755 "$out/libused_insight.so" "$dest$libdir/libused_insight.so.$version"
ln -sf "libused_insight.so.$version" "$dest$libdir/libused_insight.so.$abi"
ln -sf "libused_insight.so.$abi" "$dest$libdir/libused_insight.so"
for pc in used_insight used_insight-static; do
  sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$libdir|" -e "s|@VERSION@|$version|" \
    -e "s|@NATIVE_LIBS@|$native_libs|" "ffi/$pc.pc.in" >"$dest$libdir/pkgconfig/$pc.pc"
  chmod 644 "$dest$libdir/pkgconfig/$pc.pc"
done

# CMake finds the prefix from where its config file is (LIBDIR/cmake/
# used_insight), so the installed tree can be moved whole. A LIBDIR outside
# PREFIX is written as it is.
case "$libdir/" in
  "$prefix"/*)
    libdir_rel=${libdir#"$prefix"}
    libdir_rel=${libdir_rel#/}
    to_prefix=../..
    rest=$libdir_rel
    while [ -n "$rest" ]; do
      to_prefix="$to_prefix/.."
      case "$rest" in */*) rest=${rest#*/} ;; *) rest= ;; esac
    done
    prefix_from_config="\${CMAKE_CURRENT_LIST_DIR}/$to_prefix"
    libdir_from_prefix="\${_used_insight_prefix}${libdir_rel:+/$libdir_rel}"
    ;;
  *)
    prefix_from_config=$prefix
    libdir_from_prefix=$libdir
    ;;
esac
# rustc's `-lfoo` as CMake's `foo`; anything else (flags) verbatim.
cmake_native_libs=
for lib in $native_libs; do
  case "$lib" in -l*) lib=${lib#-l} ;; esac
  cmake_native_libs="${cmake_native_libs:+$cmake_native_libs;}$lib"
done
for file in used_insightConfig used_insightConfigVersion; do
  sed -e "s|@PREFIX_FROM_CONFIG@|$prefix_from_config|" -e "s|@LIBDIR_FROM_PREFIX@|$libdir_from_prefix|" \
    -e "s|@VERSION@|$version|g" -e "s|@ABI@|$abi|g" -e "s|@MAJOR@|$major|g" \
    -e "s|@MINOR@|$minor|g" -e "s|@CMAKE_NATIVE_LIBS@|$cmake_native_libs|" \
    "ffi/cmake/$file.cmake.in" >"$dest$libdir/cmake/used_insight/$file.cmake"
  chmod 644 "$dest$libdir/cmake/used_insight/$file.cmake"
done
echo "installed used_insight $version ($profile) into $dest$prefix"
