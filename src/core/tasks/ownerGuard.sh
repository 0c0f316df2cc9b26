# The guard of one owner of background tasks (ownerGuard.ts starts it; the bundle carries this text).
# Usage: sh -c "$(cat ownerGuard.sh)" background-agent-guard <instance> <grace seconds> <claim dir> <marker variable>
# It reads a pipe only its owner holds. Lines while the owner lives:
#   w <instance>       guard that earlier window's tasks too (taken over after a reload)
#   t <pid> <ticks>    a task's shell (its start time in ticks since boot tells it from a reused pid)
#   x <pid> <ticks>    that task ended
#   l <pid> <ticks>    a process group of the owner's task launcher (a subshell in it may be starting a task)
#   y <pid>            that launcher and its subshells are gone
#   q                  the owner has stopped its tasks itself: exit now
# When the pipe closes (the owner is gone, however it died) it waits up to <grace> seconds, leaving early
# once nothing is left; then, unless a later window claimed the tasks first (it creates <claim dir>, and
# so does the guard before it kills, leaving a `stopped` file in it: whoever is first wins), it stops
# every member: SIGTERM, SIGKILL after 1 s, until none is left. Members: processes whose environment carries the marker of a guarded
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
        [ "$root" = "$2:$3" ] || kept="$kept $root"
      done
      roots=$kept
      ;;
    y)
      kept=''
      for group in $groups; do
        case $group in "$2":*) ;; *) kept="$kept $group" ;; esac
      done
      groups=$kept
      ;;
    q) exit 0 ;;
  esac
done
set +f

# Every member's pid, one per line. /proc/<pid>/stat is read whole per file (a process name may hold a
# newline), its pid taken from the file name; pids 1 and 2 and kernel threads are never members.
members() {
  marked=$(LC_ALL=C grep -lzE "^$marker=($instances)\." /proc/[0-9]*/environ 2>/dev/null | sed -n 's#^/proc/\([0-9][0-9]*\)/environ$#\1#p')
  LC_ALL=C grep -aH '' /proc/[0-9]*/stat 2>/dev/null | LC_ALL=C awk -v roots="$roots" -v groups="$groups" -v marked="$marked" -v self="$$" '
    {
      at = index($0, ":")
      p = substr($0, 7, at - 12)
      if (p in rec) rec[p] = rec[p] "\n" substr($0, at + 1)
      else rec[p] = substr($0, at + 1)
    }
    END {
      for (p in rec) {
        line = rec[p]
        if (line + 0 != p + 0) continue
        sub(/^.*\) /, "", line)
        split(line, f, " ")
        state[p] = f[1]; ppid[p] = f[2]; pgid[p] = f[3]; start[p] = f[20]
      }
      n = split(roots, r, " ")
      for (i = 1; i <= n; i++) {
        split(r[i], v, ":")
        if ((v[1] in start) && start[v[1]] == v[2]) { keep[v[1]] = 1; leader[v[1]] = 1 }
      }
      # A launcher group whose id now names a different process was reused: not ours any more.
      n = split(groups, g, " ")
      for (i = 1; i <= n; i++) {
        split(g[i], v, ":")
        if (!(v[1] in start) || start[v[1]] == v[2]) launcher[v[1]] = v[2]
      }
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
      for (q in keep) if (q + 0 > 2 && q != self && ppid[q] != 2 && state[q] != "Z") print q
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
: >"$claim/stopped"
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
