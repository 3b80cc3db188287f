#!/usr/bin/env bash
# Run a command in new network, mount and PID namespaces (used by `make test` for the
# integration tests, which start and stop their own sim control plane and real node in there).
# The network namespace has only loopback (and what the tests add between namespaces they make
# themselves). The PID namespace reaps everything on every exit path: when the command ends,
# however it ends, the kernel kills every process started inside, so no kube-apiserver or
# SpaceONE process outlives the run. unshare ignores SIGINT and SIGTERM while it waits, so this
# script turns them into SIGKILL of unshare, whose --kill-child then ends the namespace.
# Started in the background, the command would inherit SIGINT and SIGQUIT ignored (POSIX, for
# async commands): the pulumi CLI closes its language host with SIGINT and kills it after 5 s,
# so every pulumi command in here waited 5 s for nothing. env --default-signal gives them back.
set -euo pipefail
# shellcheck disable=SC2016 # the inner script expands its own variables, inside the namespace
unshare --net --mount --propagation private --pid --fork --kill-child=SIGKILL --mount-proc -- env --default-signal=INT,QUIT bash -c 'ip link set lo up
links=$(ip -o link show | awk -F": " "{print \$2}" | grep -v "^lo$" || true)
[ -z "$links" ] || { echo "not isolated: $links" >&2; exit 1; }
# ip netns keeps its namespaces under /run/netns: private to this mount namespace.
mount -t tmpfs tmpfs /run/netns 2>/dev/null || { mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns; }
"$@"' isolated "$@" &
child=$!
trap 'kill -KILL "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 143' INT TERM HUP
wait "$child"
