# The guard of one owner of background tasks (ownerGuard.ts starts it; the bundle carries this text).
# Usage: sh -c "$(cat ownerGuard.sh)" background-agent-guard <instance> <grace seconds> <claim dir> <marker variable>
# It reads a pipe only its owner holds. Lines while the owner lives:
#   w <instance>       guard that earlier window's tasks too (taken over after a reload)
#   t <pid> <ticks>    a task's shell (its start time in ticks since boot tells it from a reused pid)
#   x <pid>            that task ended
#   l <pid> <ticks>    a process group of the owner's task launcher (a subshell in it may be starting a task)
#   q                  the owner has stopped its tasks itself: exit now
# When the pipe closes (the owner is gone, however it died) it waits up to <grace> seconds, leaving early
# once nothing is left; then, unless a later window claimed the tasks first (it creates <claim dir>, and
# so does the guard before it kills: whoever is first wins), it stops every member: SIGTERM, SIGKILL
# after 1 s, until none is left. Members: processes whose environment carries the marker of a guarded
# instance, the tasks' shells and their process groups, the launcher groups, and every descendant of
# those (parent links catch what cleared or overwrote its environment). SIGUSR1 = a later window took
# the tasks over while the guard waited: exit.
trap 'exit 0' USR1
set -f
instances=$1
grace=$2
claim=$3
marker=$4
roots=''
groups=''
while IFS= read -r line; do
  set -- $line
  case $1 in
    w) instances="$instances|$2" ;;
    t) roots="$roots $2:$3" ;;
    l) groups="$groups $2:$3" ;;
    x)
      kept=''
      for root in $roots; do
        case $root in "$2":*) ;; *) kept="$kept $root" ;; esac
      done
      roots=$kept
      ;;
    q) exit 0 ;;
  esac
done
set +f

members() {
  marked=$(grep -lzE "^$marker=($instances)\\." /proc/[0-9]*/environ 2>/dev/null | sed -n 's#^/proc/\([0-9][0-9]*\)/environ$#\1#p')
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$roots" -v groups="$groups" -v marked="$marked" -v self="$$" '
    {
      pid = $1 + 0
      rest = $0
      sub(/^.*\) /, "", rest)
      split(rest, f, " ")
      state[pid] = f[1]; ppid[pid] = f[2]; pgid[pid] = f[3]; start[pid] = f[20]
    }
    END {
      n = split(roots, r, " ")
      for (i = 1; i <= n; i++) {
        split(r[i], p, ":")
        if ((p[1] in start) && start[p[1]] == p[2]) { keep[p[1]] = 1; leader[p[1]] = 1 }
      }
      n = split(groups, g, " ")
      for (i = 1; i <= n; i++) { split(g[i], p, ":"); launcher[p[1]] = p[2] }
      n = split(marked, m)
      for (i = 1; i <= n; i++) if (m[i] in start) keep[m[i]] = 1
      for (q in pgid) {
        if (pgid[q] in leader) keep[q] = 1
        else if ((pgid[q] in launcher) && start[q] >= launcher[pgid[q]]) keep[q] = 1
      }
      changed = 1
      while (changed) {
        changed = 0
        for (q in ppid) if (!(q in keep) && (ppid[q] in keep)) { keep[q] = 1; changed = 1 }
      }
      for (q in keep) if (q != self && q != 1 && state[q] != "Z") print q
    }'
}

signal() {
  for pid in $2; do kill -s "$1" "$pid" 2>/dev/null; done
}

left=$grace
while [ "$left" -gt 0 ]; do
  [ -n "$(members)" ] || exit 0
  sleep 1 &
  wait $!
  left=$((left - 1))
done
mkdir "$claim" 2>/dev/null || exit 0
trap '' USR1
pids=$(members)
[ -n "$pids" ] || exit 0
signal TERM "$pids"
round=0
while [ $round -lt 60 ]; do
  sleep 0.1
  pids=$(members)
  [ -n "$pids" ] || exit 0
  [ $round -ge 9 ] && signal KILL "$pids"
  round=$((round + 1))
done
