#!/usr/bin/env bash
# A throwaway local PostgreSQL for Weir's tests, CI and trying `weir serve --store postgres://…`.
#
#   scripts/postgres.sh start DIR PORT   initialises DIR if needed, starts the server on
#                                         127.0.0.1:PORT only, waits until it accepts connections
#                                         and prints its URL (postgres://weir:PASSWORD@127.0.0.1:PORT/weir)
#   scripts/postgres.sh stop DIR         stops it (fast shutdown); nothing to stop is no error
#   scripts/postgres.sh url DIR PORT     prints the URL without starting anything
#
# Both commands are idempotent: starting a running server prints its URL again. It uses Debian's
# `postgresql` packages (/usr/lib/postgresql/<version>/bin, the newest; PG_BINDIR overrides).
# initdb and postgres refuse to run as root, so as root they run as the `postgres` system user
# (runuser) and DIR is given to that user; DIR's parent must let that user through.
#
# Throwaway means: fsync is off (a crash of the machine can lose the data; a crash of a process
# cannot), the superuser is `weir` with a random password kept in DIR/password (mode 0600), and
# the server listens on the loopback address only. Never use it for data you want to keep.
set -euo pipefail

die() {
  printf 'postgres.sh: %s\n' "$*" >&2
  exit 1
}
usage() {
  printf 'usage: %s start DIR PORT | stop DIR | url DIR PORT\n' "$0" >&2
  exit 2
}

bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then
    [ -x "$PG_BINDIR/initdb" ] || die "PG_BINDIR=$PG_BINDIR has no initdb"
    printf '%s\n' "$PG_BINDIR"
    return
  fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] ||
    die "no PostgreSQL binaries in /usr/lib/postgresql/*/bin: install Debian's postgresql package (apt-get install postgresql) or set PG_BINDIR"
  printf '%s\n' "$d"
}

# Runs a PostgreSQL program as the user that owns the cluster: `postgres` when we are root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user (Debian's postgresql package creates it)"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

check_port() {
  case "$1" in
    '' | *[!0-9]*) die "PORT must be a TCP port number, got '$1'" ;;
  esac
  [ "$1" -ge 1 ] && [ "$1" -le 65535 ] || die "PORT must be 1-65535, got $1"
}

url() {
  local dir=$1 port=$2
  [ -r "$dir/password" ] || die "$dir has no password file: was it made by 'postgres.sh start'?"
  printf 'postgres://weir:%s@127.0.0.1:%s/weir\n' "$(cat "$dir/password")" "$port"
}

running() {
  as_owner "$BIN/pg_ctl" status -D "$1/data" >/dev/null 2>&1
}

init() {
  local dir=$1
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
    runuser -u postgres -- test -w "$dir" ||
      die "the postgres user cannot write $dir: its parent directories must let it through (chmod o+x)"
  fi
  chmod 700 "$dir"
  # Hex only: safe in a URL without escaping.
  (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$dir/password")
  [ "$(id -u)" = 0 ] && chown postgres: "$dir/password"
  as_owner "$BIN/initdb" -D "$dir/data" -U weir --pwfile="$dir/password" --auth=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    die "initdb failed; see $dir/initdb.log"
  mkdir -p "$dir/run"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir/run"
  return 0
}

start() {
  local dir=$1 port=$2
  check_port "$port"
  BIN=$(bindir)
  [ -f "$dir/data/PG_VERSION" ] || init "$dir"
  if running "$dir"; then
    url "$dir" "$port"
    return
  fi
  # Settings on the command line, not in postgresql.conf: the same DIR may start on another PORT.
  as_owner "$BIN/pg_ctl" start -D "$dir/data" -w -t 60 -l "$dir/server.log" -o \
    "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir/run -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null || die "the server did not start; see $dir/server.log"
  local i
  for i in $(seq 1 100); do
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then
      if ! PGPASSWORD=$(cat "$dir/password") "$BIN/psql" -qAt -h 127.0.0.1 -p "$port" -U weir -d postgres \
        -c "SELECT 1 FROM pg_database WHERE datname = 'weir'" | grep -q 1; then
        PGPASSWORD=$(cat "$dir/password") "$BIN/createdb" -h 127.0.0.1 -p "$port" -U weir weir ||
          die "could not create the database weir"
      fi
      url "$dir" "$port"
      return
    fi
    sleep 0.1
  done
  die "the server started but does not accept connections on 127.0.0.1:$port; see $dir/server.log"
}

stop() {
  local dir=$1
  BIN=$(bindir)
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    printf 'postgres.sh: no server in %s: nothing to stop\n' "$dir" >&2
    return
  fi
  if ! running "$dir"; then
    printf 'postgres.sh: the server in %s is not running\n' "$dir" >&2
    return
  fi
  as_owner "$BIN/pg_ctl" stop -D "$dir/data" -m fast -w -t 60 >/dev/null || die "could not stop the server in $dir"
}

[ $# -ge 1 ] || usage
case "$1" in
  start)
    [ $# -eq 3 ] || usage
    start "$(realpath -m "$2")" "$3"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    stop "$(realpath -m "$2")"
    ;;
  url)
    [ $# -eq 3 ] || usage
    check_port "$3"
    url "$(realpath -m "$2")" "$3"
    ;;
  *) usage ;;
esac
