#!/usr/bin/env bash
# The C layer, from a fresh machine: installs the tools it needs, checks the
# header is what cbindgen generates, builds libused_insight (shared and
# static) and installs it into a scratch prefix exactly as users do
# (the README's scripts/install-c.sh command), compiles the C tests as C99 and as C++11 with
# -Wall -Wextra -Wpedantic -Werror, and runs them against graph-emulator
# (plain HTTP, one playing Entra ID for the credentials, plus three HTTPS
# ones: trusted, wrong name, expired), two tinyproxy CONNECT proxies (one allowing every port, one only 443) and
# graph-emulator's tunnel-proxy (for the environment's proxy, pinned to the
# trusted HTTPS emulator) under valgrind and once with ASan/UBSan; then the
# chaos test (tests/c/test_chaos.c) against an emulator with chaos on: 8
# threads x 500 creates and create_many with ASan/UBSan, 2 x 25 under
# valgrind. Finally
# moves the installed prefix and builds tests/cmake against it with
# find_package(used_insight CONFIG), C and C++, shared and static, and runs
# what it built. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${CARGO_BUILD_JOBS:-2}
CC=${CC:-gcc}
CXX=${CXX:-g++}

step() { printf '\n==> %s\n' "$*"; }

work=$(mktemp -d)
emulator_pids=()
cleanup() {
  local pid
  # SIGTERM: an HTTPS emulator removes its CA file as it stops; the proxies
  # (in emulator_pids too) just stop.
  for pid in ${emulator_pids[@]+"${emulator_pids[@]}"}; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# --- tools, installed only when missing -------------------------------------
missing=()
command -v "$CC" >/dev/null 2>&1 || missing+=(gcc)
command -v "$CXX" >/dev/null 2>&1 || missing+=(g++)
[ -e /usr/include/stdio.h ] || missing+=(libc6-dev)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v nm >/dev/null 2>&1 || missing+=(binutils)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v tinyproxy >/dev/null 2>&1 || missing+=(tinyproxy)
command -v cmake >/dev/null 2>&1 || missing+=(cmake make)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- header ------------------------------------------------------------------
step "include/used_insight.h is fresh"
scripts/gen-header.sh --check

step "the README's C example is tests/c/example.c"
sed -n '/^#include <stdio.h>/,$p' tests/c/example.c >"$work/example.c"
for readme in README.md; do
  if ! grep -q '^## Using it from C' "$readme"; then
    echo "error: $readme has no section '## Using it from C'" >&2
    exit 1
  fi
  if ! awk '/^## Using it from C/ { section = 1 } section && /^```c$/ { code = 1; next }
            code && /^```$/ { exit } code { print }' "$readme" |
    diff -u - "$work/example.c"; then
    echo "error: the example in $readme differs from tests/c/example.c" >&2
    exit 1
  fi
  echo "$readme: same as tests/c/example.c"
done

# --- Rust side of the ABI ----------------------------------------------------
step "Rust tests of the extern \"C\" functions (NULL, bad bytes, panic boundary)"
cargo test -j"$jobs" -p used-insight-ffi

# --- libraries, installed as a user would ------------------------------------
# The README's install command as written (`scripts/install-c.sh ~/.local`),
# with HOME a scratch directory (cargo's and rustup's homes kept where they
# are); PROFILE=debug (a documented setting) keeps the suite from compiling
# everything a second time in release.
step "building and installing libused_insight as the README says, into a scratch HOME"
mkdir -p "$work/home"
commands=$(scripts/readme-commands.sh "C and C++" 1 sh)
while IFS= read -r line; do
  echo "\$ $line"
  CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
    HOME="$work/home" PROFILE=debug bash -euo pipefail -c "$line"
done <<<"$commands"
prefix="$work/home/.local"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
test -f "$prefix/lib/libused_insight.a"
test -f "$prefix/lib/libused_insight.so"

step "every exported symbol starts with used_insight_"
nm -D --defined-only "$prefix/lib/libused_insight.so" | awk '{print $3}' >"$work/symbols"
if grep -v '^used_insight_' "$work/symbols"; then
  echo "error: symbols above are exported without the used_insight_ prefix" >&2
  exit 1
fi
echo "$(wc -l <"$work/symbols") symbols, all prefixed"

# --- compile -----------------------------------------------------------------
step "compiling the C tests as C99 and C++11, and with ASan/UBSan"
read -r -a cflags <<<"$(pkg-config --cflags used_insight)"
read -r -a libs <<<"$(pkg-config --libs used_insight)"
read -r -a static_libs <<<"$(pkg-config --libs used_insight-static)"
strict=(-Wall -Wextra -Wpedantic -Werror -g)
rpath=(-Wl,-rpath,"$prefix/lib")
test_src=tests/c/test_used_insight.c
example_src=tests/c/example.c
fork_src=tests/c/test_fork.c
credentials_src=tests/c/test_credentials.c
cancel_src=tests/c/test_cancel.c
chaos_src=tests/c/test_chaos.c
# The emulator's control client, text helpers and named-test checks the
# tests share, compiled with each (not with test_fork.c or the example).
support_src=tests/c/test_support.c
set -x
"$CC" -std=c99 "${strict[@]}" "${cflags[@]}" "$test_src" "$support_src" -o "$work/test_c" \
  "${libs[@]}" -lpthread "${rpath[@]}"
"$CXX" -x c++ -std=c++11 "${strict[@]}" "${cflags[@]}" "$test_src" "$support_src" -x none \
  -o "$work/test_cxx" "${libs[@]}" -lpthread "${rpath[@]}"
"$CC" -std=c99 "${strict[@]}" -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
  -fno-omit-frame-pointer "${cflags[@]}" "$test_src" "$support_src" -o "$work/test_asan" \
  "${libs[@]}" -lpthread "${rpath[@]}"
"$CC" -std=c99 "${strict[@]}" "${cflags[@]}" "$fork_src" -o "$work/test_fork" \
  "${libs[@]}" "${rpath[@]}"
"$CC" -std=c99 "${strict[@]}" "${cflags[@]}" "$credentials_src" "$support_src" \
  -o "$work/test_credentials" "${libs[@]}" -lpthread "${rpath[@]}"
"$CC" -std=c99 "${strict[@]}" "${cflags[@]}" "$cancel_src" "$support_src" -o "$work/test_cancel" \
  "${libs[@]}" -lpthread "${rpath[@]}"
"$CXX" -x c++ -std=c++11 "${strict[@]}" "${cflags[@]}" "$cancel_src" "$support_src" -x none \
  -o "$work/test_cancel_cxx" "${libs[@]}" -lpthread "${rpath[@]}"
"$CC" -std=c99 "${strict[@]}" "${cflags[@]}" "$chaos_src" "$support_src" -o "$work/test_chaos" \
  "${libs[@]}" -lpthread "${rpath[@]}"
"$CXX" -x c++ -std=c++11 "${strict[@]}" "${cflags[@]}" "$chaos_src" "$support_src" -x none \
  -o "$work/test_chaos_cxx" "${libs[@]}" -lpthread "${rpath[@]}"
"$CC" -std=c99 "${strict[@]}" -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
  -fno-omit-frame-pointer "${cflags[@]}" "$chaos_src" "$support_src" -o "$work/test_chaos_asan" \
  "${libs[@]}" -lpthread "${rpath[@]}"
# The example, linked statically (no rpath needed) and as C++.
"$CC" -std=c99 "${strict[@]}" "${cflags[@]}" "$example_src" -o "$work/example_static" \
  "${static_libs[@]}"
"$CXX" -x c++ -std=c++11 "${strict[@]}" "${cflags[@]}" "$example_src" -x none \
  -o "$work/example_cxx" "${libs[@]}" "${rpath[@]}"
set +x
if ldd "$work/example_static" | grep -q used_insight; then
  echo "error: example_static is not statically linked to libused_insight" >&2
  exit 1
fi

# --- emulators ---------------------------------------------------------------
step "starting graph-emulator: plain HTTP, playing Entra ID, and HTTPS trusted, for another name, expired"
cargo build -j"$jobs" -p graph-emulator # both binaries: graph-emulator, tunnel-proxy
token="c-tests-$$"
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')

# start_emulator NAME [OPTION...]: graph-emulator --port 0 --token $token
# OPTION... in the background (stopped by cleanup); waits for what it
# announces and sets emu_url, and with --tls* emu_ca (the CA file's path).
start_emulator() {
  local name=$1 out="$work/emulator-$1.out" pid scheme=http
  shift
  case " $* " in *" --tls"*) scheme=https ;; esac
  : >"$out" # before it starts: read below before the child may have opened it
  "$target_dir/debug/graph-emulator" --port 0 --token "$token" "$@" >"$out" &
  pid=$!
  emulator_pids+=("$pid")
  emu_url= emu_ca=
  for _ in $(seq 300); do
    emu_url=$(sed -n 's/^listening on //p' "$out")
    emu_ca=$(sed -n 's/^ca //p' "$out")
    if [ -n "$emu_url" ] && { [ "$scheme" = http ] || [ -n "$emu_ca" ]; }; then break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  case "$emu_url" in
    "$scheme"://127.0.0.1:*) ;;
    *) echo "error: graph-emulator ($name) did not announce its URL (got: '$(cat "$out")')" >&2
       exit 1 ;;
  esac
  if [ "$scheme" = https ] && [ ! -f "$emu_ca" ]; then
    echo "error: graph-emulator ($name) announced no CA file (got: '$(cat "$out")')" >&2
    exit 1
  fi
  echo "graph-emulator ($name) at $emu_url${emu_ca:+, CA $emu_ca}"
}

start_emulator plain
url=$emu_url
export USED_INSIGHT_TEST_URL="$url" USED_INSIGHT_TEST_TOKEN="$token"
# Its certificate also names Graph's own host and the IPv4-mapped 127.0.0.1,
# which the tunnel proxy below leads clients of to it (test_env_proxy_*).
start_emulator tls --tls-names localhost,127.0.0.1,::1,graph.microsoft.com,::ffff:127.0.0.1
export USED_INSIGHT_TEST_TLS_URL="$emu_url" USED_INSIGHT_TEST_TLS_CA="$emu_ca"
start_emulator wrong-name --tls-names wrong.example
export USED_INSIGHT_TEST_TLS_WRONG_NAME_URL="$emu_url" USED_INSIGHT_TEST_TLS_WRONG_NAME_CA="$emu_ca"
start_emulator expired --tls-expired
export USED_INSIGHT_TEST_TLS_EXPIRED_URL="$emu_url" USED_INSIGHT_TEST_TLS_EXPIRED_CA="$emu_ca"
# Playing Entra ID (the test apps of tests/c/test_credentials.c) and the
# managed identity endpoints; its Graph accepts only tokens it issued.
entra_tenant=aaaaaaaa-0000-4000-8000-000000000001
start_emulator entra \
  --entra-app "$entra_tenant:cccccccc-0000-4000-8000-000000000001:test-only-secret~value" \
  --entra-app-cert "$entra_tenant:cccccccc-0000-4000-8000-000000000002:core/tests/certs/entra-test-app.pem" \
  --entra-app-federated "$entra_tenant:cccccccc-0000-4000-8000-000000000003:eyJhbGciOiJSUzI1NiJ9.test-only-federated-token.sig" \
  --managed-identity test-only-identity-header:77777777-0000-0000-0000-000000000001 \
  --require-issued-tokens
export USED_INSIGHT_TEST_ENTRA_URL="$emu_url"
# Dev Proxy's random errors for 10% of POSTs, 3% answers lost after
# storing, 3% slow (up to 400 ms), short Retry-After, a fixed seed.
start_emulator chaos --chaos 10 --chaos-lost 3 --chaos-slow 3 --chaos-slow-ms 400 \
  --chaos-retry-after-ms 50 --chaos-seed 20260101
export USED_INSIGHT_TEST_CHAOS_URL="$emu_url"

# --- proxies -----------------------------------------------------------------
step "starting tinyproxy: allowing every CONNECT port, and only 443"

# port_in_use PORT: something accepts connections on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_proxy NAME [CONFIG LINE...]: tinyproxy in the foreground on a free
# loopback port (below the kernel's ephemeral range, tried again if taken),
# its config and log in $work/proxy-NAME/; stopped by cleanup. Waits until it
# accepts connections and sets proxy_url and proxy_log.
start_proxy() {
  local name=$1 dir="$work/proxy-$1" port pid attempt line
  shift
  mkdir -p "$dir"
  proxy_log="$dir/tinyproxy.log" proxy_url=
  for attempt in $(seq 10); do
    port=$((20000 + RANDOM % 12000))
    port_in_use "$port" && continue
    # No User/Group: it stays the user it was started as. No PidFile.
    {
      printf 'Listen 127.0.0.1\nPort %s\nAllow 127.0.0.1\nLogFile "%s"\n' "$port" "$proxy_log"
      printf 'LogLevel Info\nMaxClients 64\nTimeout 30\n'
      for line in "$@"; do printf '%s\n' "$line"; done
    } >"$dir/tinyproxy.conf"
    : >"$proxy_log"
    tinyproxy -d -c "$dir/tinyproxy.conf" </dev/null >"$dir/tinyproxy.out" 2>&1 &
    pid=$!
    emulator_pids+=("$pid")
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      if port_in_use "$port"; then
        # Still ours (not another process that took the port meanwhile)?
        sleep 0.1
        kill -0 "$pid" 2>/dev/null && proxy_url="http://127.0.0.1:$port"
        break
      fi
      sleep 0.1
    done
    [ -n "$proxy_url" ] && break
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset 'emulator_pids[${#emulator_pids[@]}-1]'
    echo "tinyproxy ($name) did not start on port $port (attempt $attempt):" >&2
    cat "$dir/tinyproxy.out" "$proxy_log" >&2 || true
  done
  if [ -z "$proxy_url" ]; then
    echo "error: tinyproxy ($name) did not start" >&2
    exit 1
  fi
  echo "tinyproxy ($name) at $proxy_url, log $proxy_log"
}

start_proxy allowing
export USED_INSIGHT_TEST_PROXY_URL="$proxy_url" USED_INSIGHT_TEST_PROXY_LOG="$proxy_log"
start_proxy refusing 'ConnectPort 443'
export USED_INSIGHT_TEST_REFUSING_PROXY_URL="$proxy_url" \
  USED_INSIGHT_TEST_REFUSING_PROXY_LOG="$proxy_log"

step "starting tunnel-proxy: every CONNECT, whatever its host, to the trusted HTTPS emulator"
tunnel_out="$work/tunnel-proxy.out"
: >"$tunnel_out"
"$target_dir/debug/tunnel-proxy" --to "$USED_INSIGHT_TEST_TLS_URL" >"$tunnel_out" &
emulator_pids+=("$!")
tunnel_url=
for _ in $(seq 300); do
  tunnel_url=$(sed -n 's/^listening on //p' "$tunnel_out")
  [ -n "$tunnel_url" ] && break
  kill -0 "${emulator_pids[${#emulator_pids[@]}-1]}" 2>/dev/null || break
  sleep 0.1
done
case "$tunnel_url" in
  http://127.0.0.1:*) echo "tunnel-proxy at $tunnel_url, output $tunnel_out" ;;
  *) echo "error: tunnel-proxy did not announce its URL (got: '$(cat "$tunnel_out")')" >&2
     exit 1 ;;
esac
export USED_INSIGHT_TEST_TUNNEL_URL="$tunnel_url" USED_INSIGHT_TEST_TUNNEL_OUT="$tunnel_out"

# --- run ---------------------------------------------------------------------
# --num-callers: deep enough for tests/c/valgrind.supp's frames to be seen
# when TLS runs inside a CONNECT tunnel (ureq's transports stack up).
valgrind=(valgrind -q --error-exitcode=1 --num-callers=40 --leak-check=full --show-leak-kinds=definite,indirect,possible
  --errors-for-leak-kinds=definite,indirect,possible --suppressions=tests/c/valgrind.supp)

step "C tests under valgrind"
"${valgrind[@]}" "$work/test_c"

step "C++ tests under valgrind"
"${valgrind[@]}" "$work/test_cxx"

step "a client used before fork(), in parent and child at once, under valgrind"
"${valgrind[@]}" --child-silent-after-fork=no "$work/test_fork"

step "credentials against the emulator's Entra ID and managed identity, under valgrind"
"${valgrind[@]}" "$work/test_credentials"

step "C tests with AddressSanitizer and UndefinedBehaviorSanitizer"
ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  "$work/test_asan"

step "cancel tokens cancelled from a SIGINT handler: natively (250 ms bound), as C++, under valgrind"
"$work/test_cancel"
"$work/test_cancel_cxx"
USED_INSIGHT_TEST_PROMPT_MS=2000 "${valgrind[@]}" "$work/test_cancel"
step "chaos: 8 threads x 500 creates, then create_many, with ASan/UBSan (natively)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$work/test_chaos_asan" 8 500 250

step "chaos: 2 threads x 25 creates, then create_many, under valgrind (C and C++)"
"${valgrind[@]}" "$work/test_chaos" 2 25 3000
"${valgrind[@]}" "$work/test_chaos_cxx" 2 25 3000

step "the README example (static, and as C++) under valgrind"
for example in example_static example_cxx; do
  out=$(GRAPH_TOKEN="$token" "${valgrind[@]}" "$work/$example" "$url")
  echo "$example: $out"
  case "$out" in
    "created "????????-????-????-????-????????????) ;;
    *) echo "error: $example printed '$out'" >&2; exit 1 ;;
  esac
done
# Without a token it fails cleanly, saying why.
if env -u GRAPH_TOKEN "${valgrind[@]}" "$work/example_static" "$url" 2>"$work/example.err"; then
  echo "error: the example succeeded without a token" >&2
  exit 1
fi
grep -q '^USED_INSIGHT_STATUS_INVALID_CONFIG: invalid configuration: no token' "$work/example.err" || {
  cat "$work/example.err" >&2
  exit 1
}

# --- CMake package -----------------------------------------------------------
# Moved first: the package must find itself from where it is, not from the
# prefix it was installed for (the pkg-config builds above are done).
step "CMake: tests/cmake builds against the moved prefix with find_package(used_insight CONFIG)"
moved="$work/moved-prefix"
mv "$prefix" "$moved"
version=$(cargo pkgid -p used-insight-ffi | sed 's/.*[#@]//')
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
if [ "$major" = 0 ]; then
  same_abi="0.$minor" next_abi="0.$((minor + 1))"
else
  same_abi="$major.0" next_abi="$((major + 1)).0"
fi
cmake -S tests/cmake -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$moved" \
  -DUSED_INSIGHT_VERSION="$same_abi" -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX"
cmake --build "$work/cmake-build" -j"$jobs"
for program in example_shared example_static consumer_cxx_shared consumer_cxx_static; do
  out=$(GRAPH_TOKEN="$token" "$work/cmake-build/$program" "$url")
  echo "$program: $out"
  case "$out" in
    "created "????????-????-????-????-????????????*) ;;
    *) echo "error: $program printed '$out'" >&2; exit 1 ;;
  esac
done
for program in example_static consumer_cxx_static; do
  if ldd "$work/cmake-build/$program" | grep -q used_insight; then
    echo "error: $program is not statically linked to libused_insight" >&2
    exit 1
  fi
done
# A version of another ABI is refused, saying which was found.
if cmake -S tests/cmake -B "$work/cmake-wrong-version" -DCMAKE_PREFIX_PATH="$moved" \
  -DUSED_INSIGHT_VERSION="$next_abi" >"$work/cmake-wrong-version.log" 2>&1; then
  echo "error: find_package(used_insight $next_abi) accepted $version" >&2
  exit 1
fi
grep -q "compatible with requested version \"$next_abi\"" "$work/cmake-wrong-version.log" || {
  cat "$work/cmake-wrong-version.log" >&2
  exit 1
}
echo "find_package(used_insight $next_abi) refuses $version, as it should"

echo
echo "==> C layer: all checks passed"
