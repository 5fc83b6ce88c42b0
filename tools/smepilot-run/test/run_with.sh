#!/usr/bin/env bash
# Runs a command with a hostile stdout or file system, for the CLI tests
# (check_run.cmake):
#   run_with.sh closed-pipe CMD...          stdout is a pipe whose reader has
#                                           already gone (every write fails);
#                                           prints "exit N" on this script's
#                                           stdout (141 = killed by SIGPIPE)
#   run_with.sh closed-pipe-ignored CMD...  the same with SIGPIPE ignored, as
#                                           some parents leave it: writes fail
#                                           with EPIPE instead
#   run_with.sh fsize KIB CMD...            files are limited to KIB KiB
#                                           (SIGXFSZ ignored): writes past it
#                                           fail with EFBIG, as on a full disk
#   run_with.sh vmem KIB CMD...             the address space is limited to
#                                           KIB KiB (ulimit -v)
#   run_with.sh memlock KIB CMD...          at most KIB KiB may be locked
#                                           (ulimit -l); as root, without the
#                                           capability that ignores the limit
set -u
mode=$1
shift
case "$mode" in
closed-pipe | closed-pipe-ignored)
  dir=$(mktemp -d)
  mkfifo "$dir/pipe"
  # A reader that opens the FIFO and exits at once; once it is gone the
  # write end we hold has no reader left. No race: we wait for it.
  (exec 3<"$dir/pipe") &
  exec 4>"$dir/pipe"
  wait $!
  if [ "$mode" = closed-pipe-ignored ]; then
    trap '' PIPE
  fi
  "$@" >&4
  rc=$?
  exec 4>&-
  rm -rf "$dir"
  echo "exit $rc"
  ;;
fsize)
  kib=$1
  shift
  trap '' XFSZ
  ulimit -f "$kib"
  exec "$@"
  ;;
vmem)
  kib=$1
  shift
  ulimit -v "$kib"
  exec "$@"
  ;;
memlock)
  kib=$1
  shift
  ulimit -l "$kib"
  if [ "$(id -u)" = 0 ]; then
    # CAP_IPC_LOCK lets root lock past the limit: drop it for CMD.
    exec setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock "$@"
  fi
  exec "$@"
  ;;
*)
  echo "run_with.sh: unknown mode '$mode'" >&2
  exit 2
  ;;
esac
